//go:build !unix

package sqlite

// LockWorker does not lock on this platform: run one worker per file.
func (s *Store) LockWorker() (func(), error) { return func() {}, nil }
