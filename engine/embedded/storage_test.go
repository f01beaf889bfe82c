package embedded_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// smallDisk mounts a size-limited tmpfs for the test, or skips it saying
// why it cannot.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a full disk needs a size-limited tmpfs, which only root can mount")
	}
	dir := filepath.Join(t.TempDir(), "disk")
	require.NoError(t, os.Mkdir(dir, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir
}

// fill writes a file at path until the disk is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			require.True(t, errors.Is(err, syscall.ENOSPC), "filling the disk: %v", err)
			return
		}
	}
}

var (
	diskGate  = make(chan struct{})
	diskRuns  sync.Map // input -> *atomic.Int64
	diskStart atomic.Int64
)

var diskWork = activity.New("disk-work", func(ctx context.Context, n int) (int, error) {
	v, _ := diskRuns.LoadOrStore(n, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	diskStart.Add(1)
	select {
	case <-diskGate:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return n, nil
})

var diskFanOut = orchestration.New("disk-fan-out", func(ctx orchestration.Context, n int) (int, error) {
	fs := make([]orchestration.Future[int], n)
	for i := range n {
		fs[i] = orchestration.Call(ctx, diskWork, i)
	}
	all, err := orchestration.All(ctx, fs...).Await(ctx)
	sum := 0
	for _, v := range all {
		sum += v
	}
	return sum, err
})

// TestFullDisk: commits that fail because the disk is full are retried
// with back-off, said once, and land when space returns: the instance
// completes with its exact output and no activity runs twice. Before, the
// worker recovered after each failed commit and ran the activities again,
// spinning (one activity ran 10,501 times in 30 s).
func TestFullDisk(t *testing.T) {
	dir := smallDisk(t, "8m")
	diskGate, diskRuns = make(chan struct{}), sync.Map{}
	diskStart.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	eng, err := embedded.Open(ctx, filepath.Join(dir, "app.db"), embedded.Options{PollInterval: 10 * time.Millisecond, Logger: logger})
	require.NoError(t, err)
	defer eng.Close()
	w := worker.New(eng, worker.Options{Logger: logger})
	w.RegisterOrchestrators(diskFanOut)
	w.RegisterActivities(diskWork)
	require.NoError(t, w.Start(ctx))
	defer w.Stop(context.Background())

	const n = 20
	id, err := client.Start(ctx, eng, diskFanOut, n)
	require.NoError(t, err)
	for diskStart.Load() < n { // every activity runs: their results are not committed yet
		time.Sleep(5 * time.Millisecond)
	}
	filler := filepath.Join(dir, "filler")
	fill(t, filler)
	close(diskGate) // the results come back, and their commit fails
	const failing = "for want of storage"
	for !strings.Contains(logs.String(), "commit failed") && !strings.Contains(logs.String(), "a commit failed") {
		time.Sleep(5 * time.Millisecond)
	}
	st, err := eng.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusRunning, st.RuntimeStatus, "nothing is committed while the disk is full")

	require.NoError(t, os.Remove(filler)) // space returns
	got, err := client.Result(ctx, eng, diskFanOut, id)
	require.NoError(t, err)
	assert.Equal(t, n*(n-1)/2, got)
	for i := range n {
		v, _ := diskRuns.Load(i)
		assert.Equal(t, int64(1), v.(*atomic.Int64).Load(), "activity %d ran once", i)
	}
	assert.Equal(t, 1, strings.Count(logs.String(), failing), "the failure is said once:\n%s", logs.String())
	assert.Contains(t, logs.String(), "commits resumed")
}
