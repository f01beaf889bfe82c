package soak

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
)

// execution is one line of the execution log: one run of an activity
// attempt, written (and fsync'd) before the activity returns.
type execution struct {
	Key      string `json:"key"` // activity.Info's IdempotencyKey
	Activity string `json:"activity"`
	Instance string `json:"instance"`
	Task     int64  `json:"task"`
	Attempt  int    `json:"attempt"`
	Digest   string `json:"digest"` // of the input
	PID      int    `json:"pid"`
	// At is when the run began.
	At time.Time `json:"at"`
}

// digest identifies an activity input: a hash of its JSON encoding.
func digest(w Work) string {
	data, _ := json.Marshal(w)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// execLog appends executions to a file, one write per line, and fsyncs
// them in groups: a line is durable before its activity returns.
type execLog struct {
	mu      sync.Mutex
	f       *os.File
	written uint64

	syncMu sync.Mutex
	synced uint64
}

// theLog is the worker process's execution log; nil elsewhere (the
// activities then log nothing).
var (
	theLogMu sync.Mutex
	theLog   *execLog
)

func openExecLog(path string) (*execLog, error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	l := &execLog{f: f}
	theLogMu.Lock()
	theLog = l
	theLogMu.Unlock()
	return l, nil
}

func (l *execLog) close() error {
	theLogMu.Lock()
	if theLog == l {
		theLog = nil
	}
	theLogMu.Unlock()
	return l.f.Close()
}

func (l *execLog) append(e execution) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	l.mu.Lock()
	_, err = l.f.Write(line)
	l.written++
	mine := l.written
	l.mu.Unlock()
	if err != nil {
		return fmt.Errorf("soak: execution log: %w", err)
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.synced >= mine {
		return nil // a sync that began after our write covered it
	}
	l.mu.Lock()
	upTo := l.written
	l.mu.Unlock()
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("soak: execution log: %w", err)
	}
	l.synced = upTo
	return nil
}

// logExecution appends the running attempt of activity name on w.
func logExecution(ctx context.Context, name string, w Work) error {
	theLogMu.Lock()
	l := theLog
	theLogMu.Unlock()
	if l == nil {
		return nil
	}
	info, ok := activity.InfoFrom(ctx)
	if !ok {
		return errors.New("soak: an activity without its activity.Info")
	}
	return l.append(execution{Key: info.IdempotencyKey, Activity: name, Instance: info.InstanceID,
		Task: info.TaskID, Attempt: info.Attempt, Digest: digest(w), PID: os.Getpid(), At: time.Now().UTC()})
}

// readExecutions reads an execution log; torn counts lines that do not
// parse (a line cut by a kill, which a single write makes unlikely).
func readExecutions(path string) (execs []execution, torn int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e execution
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			torn++
			continue
		}
		execs = append(execs, e)
	}
	return execs, torn, sc.Err()
}
