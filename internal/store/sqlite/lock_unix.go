//go:build unix

package sqlite

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// LockWorker takes an exclusive lock on "<db>-worker.lock" so that only one
// worker process runs on a database file. The kernel releases the lock if
// the process dies, even by kill -9.
func (s *Store) LockWorker() (func(), error) {
	path := s.path + "-worker.lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sqlite: worker lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(path)
		f.Close()
		pid := strings.TrimSpace(string(owner))
		if pid == "" {
			pid = "unknown"
		}
		return nil, fmt.Errorf("%w: %s is used by the worker of process %s; run one worker per database file (clients may share it)",
			ErrWorkerRunning, s.path, pid)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
