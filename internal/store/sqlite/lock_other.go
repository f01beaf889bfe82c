//go:build !unix

package sqlite

// LockWorker does not lock on this platform: run one worker per file.
func (s *Store) LockWorker() (func(), error) { return func() {}, nil }

// WorkerRunning implements store.WorkerProber: without a lock, it cannot
// tell, and says a worker runs.
func (s *Store) WorkerRunning() (bool, error) { return true, nil }
