//go:build unix

package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/store/sqlite"
)

// TestWorkerRunning: the probe says whether a worker holds the lock, of
// this store or of another one on the same file, and never keeps a worker
// from starting.
func TestWorkerRunning(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "probe.db")
	open := func() *sqlite.Store {
		s, err := sqlite.Open(ctx, path, sqlite.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := open(), open()
	running := func(s *sqlite.Store) bool {
		ok, err := s.WorkerRunning()
		require.NoError(t, err)
		return ok
	}
	assert.False(t, running(a), "no worker ever ran")
	release, err := a.LockWorker()
	require.NoError(t, err)
	assert.True(t, running(a), "the worker of this store")
	assert.True(t, running(b), "the worker of another store on the file")
	release()
	assert.False(t, running(b), "the worker stopped")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // probes all along never refuse a worker
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				_, _ = a.WorkerRunning()
			}
		}
	}()
	for range 100 {
		release, err := b.LockWorker()
		require.NoError(t, err)
		assert.True(t, running(a))
		release()
	}
	close(stop)
	<-done
}
