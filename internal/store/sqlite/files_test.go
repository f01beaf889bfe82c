package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
	"github.com/cloudbutton/cloudbutton/internal/store/sqlite"
)

// newDB creates a database with one instance in it, closed.
func newDB(t *testing.T, path string) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	require.NoError(t, err)
	addInstance(t, s, "one")
	require.NoError(t, s.Close())
}

func addInstance(t *testing.T, s store.Store, id string) {
	t.Helper()
	require.NoError(t, s.CreateInstance(context.Background(), store.Instance{ID: id, Name: "orch", Status: store.StatusPending},
		store.Message{InstanceID: id, Event: replay.Event{Type: replay.OrchestrationStarted, Name: "orch", InstanceID: id, Payload: []byte(`1`)}}, false))
}

// copyFile copies src to dst if src exists.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if os.IsNotExist(err) {
		return
	}
	require.NoError(t, err)
	defer in.Close()
	out, err := os.Create(dst)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}

// TestOpenRefusesWhatWouldLoseData: files that SQLite would open as a new
// or older database, silently dropping what was committed, are refused
// with an error naming the file and the cause.
func TestOpenRefusesWhatWouldLoseData(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"emptied database with its worker's lock beside it", func(t *testing.T, path string) {
			newDB(t, path)
			s, err := sqlite.Open(ctx, path, sqlite.Options{})
			require.NoError(t, err)
			release, err := s.LockWorker()
			require.NoError(t, err)
			release()
			require.NoError(t, s.Close())
			require.NoError(t, os.Truncate(path, 0))
		}, "is empty"},
		{"write-ahead log deleted after a crash", func(t *testing.T, path string) {
			// A crash image: the files of a database that is open and has
			// committed steps in its log, copied as kill -9 leaves them.
			live := filepath.Join(t.TempDir(), "live.db")
			s, err := sqlite.Open(ctx, live, sqlite.Options{})
			require.NoError(t, err)
			defer s.Close()
			addInstance(t, s, "committed")
			for _, suffix := range []string{"", "-shm"} { // not -wal
				copyFile(t, live+suffix, path+suffix)
			}
		}, "write-ahead log"},
		{"hard link", func(t *testing.T, path string) {
			other := filepath.Join(t.TempDir(), "other.db")
			newDB(t, other)
			require.NoError(t, os.Link(other, path))
		}, "hard link"},
		{"read-only database file", func(t *testing.T, path string) {
			newDB(t, path)
			require.NoError(t, os.Chmod(path, 0o444))
		}, "read-only"},
		{"read-only directory", func(t *testing.T, path string) {
			newDB(t, path)
			require.NoError(t, os.Chmod(filepath.Dir(path), 0o555))
			t.Cleanup(func() { os.Chmod(filepath.Dir(path), 0o755) })
		}, "read-only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.db")
			tt.setup(t, path)
			s, err := sqlite.Open(ctx, path, sqlite.Options{})
			if err == nil {
				s.Close()
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), path, "the error names the file")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestReadOnlyRecovers: once a read-only database file is writable again,
// it opens, and nothing SQLite created while it was read-only stays
// read-only.
func TestReadOnlyRecovers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	newDB(t, path)
	require.NoError(t, os.Chmod(path, 0o444))
	_, err := sqlite.Open(ctx, path, sqlite.Options{})
	require.Error(t, err)
	require.NoError(t, os.Chmod(path, 0o644))
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	require.NoError(t, err)
	defer s.Close()
	addInstance(t, s, "two")
	for _, suffix := range []string{"-wal", "-shm"} {
		if fi, err := os.Stat(path + suffix); err == nil {
			assert.NotZero(t, fi.Mode().Perm()&0o200, "%s is writable", suffix)
		}
	}
}

// TestWorkerLockFollowsTheFile: the single-worker lock is the file's, not
// the path's: a worker through a symlink is refused like one through the
// path.
func TestWorkerLockFollowsTheFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	newDB(t, path)
	link := filepath.Join(t.TempDir(), "link.db")
	require.NoError(t, os.Symlink(path, link))
	a, err := sqlite.Open(ctx, path, sqlite.Options{})
	require.NoError(t, err)
	defer a.Close()
	release, err := a.LockWorker()
	require.NoError(t, err)
	defer release()
	b, err := sqlite.Open(ctx, link, sqlite.Options{})
	require.NoError(t, err)
	defer b.Close()
	_, err = b.LockWorker()
	require.ErrorIs(t, err, sqlite.ErrWorkerRunning)
}

// TestOpenRaceChild is a process of TestConcurrentFirstOpens: it opens
// the database, takes the worker lock and holds it until killed.
func TestOpenRaceChild(t *testing.T) {
	path := os.Getenv("CLOUDBUTTON_OPEN_RACE_DB")
	if path == "" {
		t.Skip("run by TestConcurrentFirstOpens")
	}
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err == nil {
		_, err = s.LockWorker()
	}
	if err != nil {
		fmt.Println("RESULT", err)
		return
	}
	fmt.Println("RESULT locked")
	time.Sleep(time.Hour) // holds the lock until the parent kills it
}

// TestConcurrentFirstOpens: worker processes racing to create a new
// database all open it, and all but one are refused by the worker lock,
// with the clear error (before, some lost with "database is locked").
func TestConcurrentFirstOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	const n = 16
	results := make(chan string, n)
	for range n {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOpenRaceChild$")
		cmd.Env = append(os.Environ(), "CLOUDBUTTON_OPEN_RACE_DB="+path)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if r, ok := strings.CutPrefix(sc.Text(), "RESULT "); ok {
					results <- r
					return
				}
			}
			results <- "no result"
		}()
	}
	var got []string
	for range n {
		got = append(got, <-results)
	}
	locked := 0
	for i, r := range got {
		if r == "locked" {
			locked++
			continue
		}
		assert.Contains(t, r, "another worker is running", "process %d", i)
	}
	assert.Equal(t, 1, locked, "one worker wins: %q", got)
}
