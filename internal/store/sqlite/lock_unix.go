//go:build unix

package sqlite

import (
	"errors"
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
	alive, err := s.holdAlive()
	if err != nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
		return nil, err
	}
	return func() {
		alive()
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// aliveSuffix names the file beside the database whose shared lock the
// worker holds for its life, for WorkerRunning: a probe of the worker
// lock itself could make a worker starting at that moment fail.
const aliveSuffix = "-worker.alive"

// holdAlive takes the shared lock of the alive file, waiting for a probe
// that holds it (for the microseconds of WorkerRunning) to let go.
func (s *Store) holdAlive() (func(), error) {
	f, err := os.OpenFile(s.path+aliveSuffix, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sqlite: worker lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		return nil, fmt.Errorf("sqlite: worker lock: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// WorkerRunning implements store.WorkerProber: it tries the exclusive
// lock of the alive file, which fails while a worker (of any process,
// this one included) holds its shared lock, and lets go at once; a worker
// starting meanwhile waits for that, never fails for it. No alive file
// means no worker ran since this build.
func (s *Store) WorkerRunning() (bool, error) {
	f, err := os.Open(s.path + aliveSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: worker lock: %w", err)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: worker lock: %w", err)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false, nil
}
