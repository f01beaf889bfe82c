package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// corpus writes n files and returns their paths and contents' sums.
func corpus(t *testing.T, n int) (dir string, paths []string, sums map[string]string) {
	t.Helper()
	dir = t.TempDir()
	sums = map[string]string{}
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("f%02d.txt", i))
		data := bytes.Repeat([]byte{byte('a' + i)}, 100*(i+1))
		require.NoError(t, os.WriteFile(p, data, 0o644))
		sum := sha256.Sum256(data)
		sums[p] = hex.EncodeToString(sum[:])
		paths = append(paths, p)
	}
	return dir, paths, sums
}

func newEnv(t *testing.T) *orchestrationtest.Env {
	env := orchestrationtest.New(t)
	env.RegisterActivities(activities()...)
	return env
}

func TestFanOutPartialFailure(t *testing.T) {
	dir, paths, sums := corpus(t, 5)
	items := append([]string{}, paths[:2]...)
	items = append(items, filepath.Join(dir, "missing.txt"), dir) // a missing file, a directory
	items = append(items, paths[2:]...)
	env := newEnv(t)
	r, err := orchestrationtest.Run(env, FanOut, items)
	require.NoError(t, err)
	require.Len(t, r.Sums, 5)
	for i, s := range r.Sums {
		assert.Equal(t, paths[i], s.Path, "results keep input order")
		assert.Equal(t, sums[s.Path], s.SHA256)
	}
	require.Len(t, r.Failed, 2)
	assert.Equal(t, 2, r.Failed[0].Index)
	assert.Contains(t, r.Failed[0].Error, "NotFound")
	assert.Equal(t, 3, r.Failed[1].Index)
	assert.Contains(t, r.Failed[1].Error, "IsDirectory")
	for _, e := range env.History() {
		assert.LessOrEqual(t, e.Attempt, 1, "bad input is not retried")
	}
}

// TestFanOutRetriesTransientFailures: an item that fails twice and then
// succeeds is retried by the policy and counted as a success.
func TestFanOutRetriesTransientFailures(t *testing.T) {
	_, paths, sums := corpus(t, 3)
	env := newEnv(t)
	var mu sync.Mutex
	failures := map[string]int{paths[1]: 2}
	calls := orchestrationtest.MockActivity(env, Checksum, func(ctx context.Context, p string) (FileSum, error) {
		mu.Lock()
		defer mu.Unlock()
		if failures[p] > 0 {
			failures[p]--
			return FileSum{}, errors.New("disk busy")
		}
		return Checksum.Run(ctx, p)
	})
	r, err := orchestrationtest.Run(env, FanOut, paths)
	require.NoError(t, err)
	assert.Empty(t, r.Failed)
	assert.Equal(t, sums[paths[1]], r.Sums[1].SHA256)
	assert.Equal(t, 5, calls.Count(), "3 items, one of them with 2 failed attempts")
}

func TestFanOutBounded(t *testing.T) {
	dir, paths, _ := corpus(t, 10)
	withMissing := append(append([]string{}, paths...), filepath.Join(dir, "missing-1"), filepath.Join(dir, "missing-2"))
	tests := []struct {
		name       string
		job        BoundedJob
		wantSums   int
		wantFailed int
		wantErr    string
		wantBound  int
	}{
		{"bound 3", BoundedJob{Paths: paths, MaxInFlight: 3}, 10, 0, "", 3},
		{"bound 1 is sequential", BoundedJob{Paths: paths, MaxInFlight: 1}, 10, 0, "", 1},
		{"no bound", BoundedJob{Paths: paths}, 10, 0, "", 10},
		{"failures tolerated", BoundedJob{Paths: withMissing, MaxInFlight: 4, TolerateRate: 0.2}, 10, 2, "", 4},
		{"too many failures", BoundedJob{Paths: withMissing, MaxInFlight: 4, TolerateRate: 0.1}, 0, 0, "over the 1 tolerated", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			r, err := orchestrationtest.Run(env, FanOutBounded, tt.job)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
				assert.Len(t, r.Sums, tt.wantSums)
				assert.Len(t, r.Failed, tt.wantFailed)
				for _, f := range r.Failed {
					assert.Contains(t, f.Error, "NotFound")
					assert.Contains(t, f.Item, "missing-")
				}
			}
			assert.LessOrEqual(t, orchestrationtest.MaxInFlight(env.History()), tt.wantBound)
			if tt.wantErr == "" {
				assert.Equal(t, tt.wantBound, orchestrationtest.MaxInFlight(env.History()), "the window fills up")
			}
		})
	}
}

// TestRunEndToEnd runs the sample's main on the embedded engine.
func TestRunEndToEnd(t *testing.T) {
	dir, _, _ := corpus(t, 6)
	db := filepath.Join(t.TempDir(), "fanout.db")
	var out bytes.Buffer
	err := run(context.Background(), []string{"--db", db, "--max-in-flight", "2", dir, filepath.Join(dir, "missing.txt")}, &out, io.Discard)
	require.NoError(t, err, out.String())
	s := out.String()
	assert.Contains(t, s, "fan-out of 7 checksums, fan-in with All:\n  6 succeeded (2100 bytes), 1 failed")
	assert.Contains(t, s, "FAILED  item 6 missing.txt")
	assert.Contains(t, s, "bounded fan-out (at most 2 in flight, up to 25% failures tolerated):\n  6 succeeded (2100 bytes), 1 failed")
	assert.Contains(t, s, "history stored in "+db)

	err = run(context.Background(), []string{"--db", db, "--tolerate", "0", dir, filepath.Join(dir, "missing.txt")}, io.Discard, io.Discard)
	require.ErrorContains(t, err, "over the 0 tolerated")
	require.ErrorContains(t, run(context.Background(), []string{"--db", db, t.TempDir()}, io.Discard, io.Discard), "no files to checksum")
	require.ErrorContains(t, run(context.Background(), []string{"--db", db, "--tolerate", "2"}, io.Discard, io.Discard), "--tolerate 2")
}
