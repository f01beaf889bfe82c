package functionhost

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Asynchronous (Event) invocations, as Lambda runs them: the Invoke call
// answers 202 once the event is queued; the host runs queued events as
// concurrency allows (an event is never throttled away, it waits); a
// function error is retried twice (AsyncConfig), waiting RetryDelay, then
// twice that; an event that still fails, or outlives MaxEventAge, is
// logged and moved to the spool's failed/ directory, with its error.
//
// Each queued event is a file of the spool directory (a JSON header line,
// then the payload), so a deep queue of large payloads costs disk, not
// memory: a payload is read back only to run it.

// Defaults of AsyncConfig, Lambda's.
const (
	DefaultAsyncRetries     = 2
	DefaultAsyncRetryDelay  = time.Minute
	DefaultAsyncMaxEventAge = 6 * time.Hour
)

// AsyncConfig says how a function's asynchronous invocations are retried.
type AsyncConfig struct {
	// MaxRetries is how many times a failed event is retried, 0 to 2
	// (nil: 2, like Lambda).
	MaxRetries *int `yaml:"maxRetries"`
	// RetryDelay is the wait before the first retry, doubled for the
	// second (default one minute, like Lambda).
	RetryDelay time.Duration `yaml:"retryDelay"`
	// MaxEventAge bounds how long an event may wait in the queue, retries
	// included (default six hours, like Lambda).
	MaxEventAge time.Duration `yaml:"maxEventAge"`
}

func (c *AsyncConfig) normalize() error {
	if c.MaxRetries == nil {
		n := DefaultAsyncRetries
		c.MaxRetries = &n
	}
	switch {
	case *c.MaxRetries < 0 || *c.MaxRetries > 2:
		return fmt.Errorf("async.maxRetries %d: want 0, 1 or 2", *c.MaxRetries)
	case c.RetryDelay < 0 || c.MaxEventAge < 0:
		return errors.New("async.retryDelay and async.maxEventAge must not be negative")
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = DefaultAsyncRetryDelay
	}
	if c.MaxEventAge == 0 {
		c.MaxEventAge = DefaultAsyncMaxEventAge
	}
	return nil
}

// asyncEvent is one queued Event invocation; its payload is in file.
type asyncEvent struct {
	file      string
	ID        string    `json:"id"`
	Qualifier string    `json:"qualifier,omitempty"`
	ARN       string    `json:"arn"`
	TraceID   string    `json:"traceId"`
	Attempts  int       `json:"attempts"` // attempts made so far
	Received  time.Time `json:"received"`
	notBefore time.Time
}

// asyncQueue is a function's queue of Event invocations.
type asyncQueue struct {
	fn   *function
	dir  string // the function's spool directory, set by start
	wake chan struct{}
	stop context.CancelFunc // ends the dispatcher and cuts running attempts short

	mu      sync.Mutex
	ready   []*asyncEvent // due, in arrival order
	delayed []*asyncEvent // waiting for a retry
	held    int           // taken by the dispatcher, waiting for a slot
}

func newAsyncQueue(fn *function) *asyncQueue {
	return &asyncQueue{fn: fn, wake: make(chan struct{}, 1)}
}

func (q *asyncQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ready) + len(q.delayed) + q.held
}

func (q *asyncQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// enqueue writes the event to the spool and queues it.
func (q *asyncQueue) enqueue(req *invokeRequest) error {
	ev := &asyncEvent{ID: req.inv.id, Qualifier: req.qualifier, ARN: req.inv.arn, TraceID: req.inv.traceID, Received: time.Now().UTC()}
	ev.file = filepath.Join(q.dir, fmt.Sprintf("%020d-%s.event", time.Now().UnixNano(), ev.ID))
	if err := writeEvent(ev, req.inv.payload); err != nil {
		return err
	}
	q.fn.stats.asyncAccepted.Add(1)
	q.mu.Lock()
	q.ready = append(q.ready, ev)
	q.mu.Unlock()
	q.signal()
	return nil
}

func writeEvent(ev *asyncEvent, payload []byte) error {
	head, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	tmp := ev.file + ".tmp"
	if err := os.WriteFile(tmp, append(append(head, '\n'), payload...), 0o600); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("functionhost: spooling event %s: %w", ev.ID, err)
	}
	if err := os.Rename(tmp, ev.file); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("functionhost: spooling event %s: %w", ev.ID, err)
	}
	return nil
}

func readEvent(file string) (*asyncEvent, []byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	head, payload, ok := bytes.Cut(data, []byte{'\n'})
	if !ok {
		return nil, nil, fmt.Errorf("functionhost: spooled event %s: not an event file (want a JSON header line, then the payload)", file)
	}
	ev, err := parseEventHeader(file, head)
	return ev, payload, err
}

// parseEventHeader reads the JSON header line of an event file.
func parseEventHeader(file string, head []byte) (*asyncEvent, error) {
	ev := &asyncEvent{file: file}
	if json.Unmarshal(head, ev) != nil || ev.ID == "" {
		return nil, fmt.Errorf("functionhost: spooled event %s: not an event file (want a JSON header line, then the payload)", file)
	}
	return ev, nil
}

// start creates the function's spool directory, queues the events a
// previous host left in it, and runs the dispatcher.
func (q *asyncQueue) start() error {
	h := q.fn.host
	q.dir = filepath.Join(h.spool, q.fn.name)
	if err := os.MkdirAll(filepath.Join(q.dir, "failed"), 0o700); err != nil {
		return fmt.Errorf("functionhost: spool of %q: %w", q.fn.name, err)
	}
	names, err := filepath.Glob(filepath.Join(q.dir, "*.event"))
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("functionhost: spool of %q: %w", q.fn.name, err)
		}
		line, err := bufio.NewReader(f).ReadBytes('\n') // the header only: payloads are read when run
		_ = f.Close()
		var ev *asyncEvent
		if err == nil {
			ev, err = parseEventHeader(name, line)
		}
		if err != nil {
			h.log.Warn("functionhost: a spooled event is unreadable; moved to failed/", "function", q.fn.name, "file", name)
			q.moveToFailed(&asyncEvent{file: name}, "unreadable spool file")
			continue
		}
		q.ready = append(q.ready, ev)
	}
	if len(q.ready) > 0 {
		h.log.Info("functionhost: resuming queued asynchronous invocations", "function", q.fn.name, "events", len(q.ready))
	}
	ctx, stop := context.WithCancel(h.ctx)
	q.stop = stop
	h.bg.Add(1)
	go q.dispatch(ctx)
	return nil
}

// close stops the dispatcher; queued events stay in the spool.
func (q *asyncQueue) close() {
	if q.stop != nil {
		q.stop()
	}
}

// discard drops the queue of a deleted function, as Lambda does, with a
// log line saying how many events went.
func (q *asyncQueue) discard() {
	q.close()
	if n := q.len(); n > 0 {
		q.fn.host.log.Warn("functionhost: function deleted with queued asynchronous invocations, which are dropped", "function", q.fn.name, "events", n)
	}
	q.mu.Lock()
	q.ready, q.delayed = nil, nil
	q.mu.Unlock()
	if q.dir != "" {
		_ = os.RemoveAll(q.dir)
	}
}

// dispatch runs due events, each once a concurrency slot is free.
func (q *asyncQueue) dispatch(ctx context.Context) {
	h := q.fn.host
	defer h.bg.Done()
	for {
		ev := q.next(ctx)
		if ev == nil {
			return
		}
		select {
		case q.fn.slots <- struct{}{}:
		case <-ctx.Done():
			q.putBack(ev)
			return
		}
		q.mu.Lock()
		q.held--
		q.mu.Unlock()
		h.bg.Add(1)
		go func() {
			defer h.bg.Done()
			defer q.fn.release()
			q.run(ctx, ev)
		}()
	}
}

// next waits for a due event; nil once ctx ends.
func (q *asyncQueue) next(ctx context.Context) *asyncEvent {
	for {
		q.mu.Lock()
		now := time.Now()
		var wait time.Duration = -1
		keep := q.delayed[:0]
		for _, ev := range q.delayed {
			if !ev.notBefore.After(now) {
				q.ready = append(q.ready, ev)
				continue
			}
			if d := ev.notBefore.Sub(now); wait < 0 || d < wait {
				wait = d
			}
			keep = append(keep, ev)
		}
		q.delayed = keep
		if len(q.ready) > 0 {
			ev := q.ready[0]
			q.ready[0] = nil
			q.ready = q.ready[1:]
			q.held++
			q.mu.Unlock()
			return ev
		}
		q.mu.Unlock()
		var (
			t     *time.Timer
			timer <-chan time.Time
		)
		if wait >= 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-q.wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

func (q *asyncQueue) putBack(ev *asyncEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.held--
	q.ready = append([]*asyncEvent{ev}, q.ready...)
}

// run makes one attempt at an event and settles it: done, retried later,
// or failed.
func (q *asyncQueue) run(ctx context.Context, ev *asyncEvent) {
	fn, h := q.fn, q.fn.host
	_, payload, err := readEvent(ev.file)
	if err != nil {
		h.log.Warn("functionhost: a spooled event is unreadable; moved to failed/", "function", fn.name, "request_id", ev.ID, "err", err)
		q.moveToFailed(ev, err.Error())
		return
	}
	v, err := fn.resolve(ev.Qualifier)
	if err != nil {
		q.fail(ev, fmt.Sprintf("qualifier %q no longer exists", ev.Qualifier))
		return
	}
	cfg := v.cfg.Async
	ev.Attempts++
	res := v.invoke(ctx, &invocation{id: ev.ID, payload: payload, arn: ev.ARN, traceID: ev.TraceID})
	if ctx.Err() != nil {
		// The host is closing: the attempt was cut short; the event stays
		// queued in the spool.
		return
	}
	if !res.functionError {
		if err := os.Remove(ev.file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			h.log.Warn("functionhost: removing a done event", "function", fn.name, "request_id", ev.ID, "err", err)
		}
		return
	}
	age := time.Since(ev.Received)
	if ev.Attempts > *cfg.MaxRetries {
		q.fail(ev, fmt.Sprintf("failed %d times: %s", ev.Attempts, truncate(res.body, 1024)))
		return
	}
	delay := cfg.RetryDelay << (ev.Attempts - 1)
	if age+delay > cfg.MaxEventAge {
		q.fail(ev, fmt.Sprintf("older than the maximum event age %v after %d attempts: %s", cfg.MaxEventAge, ev.Attempts, truncate(res.body, 1024)))
		return
	}
	if err := writeEvent(ev, payload); err != nil { // records the attempt count
		h.log.Warn("functionhost: recording a retry", "function", fn.name, "request_id", ev.ID, "err", err)
	}
	fn.stats.asyncRetries.Add(1)
	h.log.Info("functionhost: asynchronous invocation failed; retrying", "function", fn.name, "request_id", ev.ID,
		"attempt", ev.Attempts, "delay", delay, "error", string(truncate(res.body, 256)))
	ev.notBefore = time.Now().Add(delay)
	q.mu.Lock()
	q.delayed = append(q.delayed, ev)
	q.mu.Unlock()
	q.signal()
}

// fail gives up on an event: a log line, and the event in failed/ with
// its reason beside it.
func (q *asyncQueue) fail(ev *asyncEvent, reason string) {
	q.moveToFailed(ev, reason) // before the count: whoever sees it finds the file
	q.fn.stats.asyncFailed.Add(1)
	q.fn.host.log.Warn("functionhost: asynchronous invocation dropped", "function", q.fn.name, "request_id", ev.ID,
		"attempts", ev.Attempts, "reason", reason, "kept_in", filepath.Join(q.dir, "failed"))
}

func (q *asyncQueue) moveToFailed(ev *asyncEvent, reason string) {
	dst := filepath.Join(q.dir, "failed", filepath.Base(ev.file))
	if err := os.Rename(ev.file, dst); err != nil {
		q.fn.host.log.Warn("functionhost: moving a failed event", "file", ev.file, "err", err)
		return
	}
	_ = os.WriteFile(strings.TrimSuffix(dst, ".event")+".error", []byte(reason+"\n"), 0o600)
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return append(b[:n:n], "..."...)
	}
	return b
}

// openSpool opens Options.SpoolDir, or makes a temporary spool.
func (h *Host) openSpool() error {
	if h.opts.SpoolDir != "" {
		if err := os.MkdirAll(h.opts.SpoolDir, 0o700); err != nil {
			return fmt.Errorf("functionhost: spool directory: %w", err)
		}
		h.spool = h.opts.SpoolDir
		return nil
	}
	dir, err := os.MkdirTemp("", "functionhost-spool-")
	if err != nil {
		return fmt.Errorf("functionhost: spool directory: %w", err)
	}
	h.spool, h.tmp = dir, true
	return nil
}

// closeSpool reports what is left in the queues, and removes a temporary
// spool.
func (h *Host) closeSpool() {
	left := 0
	for _, fn := range h.functions() {
		left += fn.async.len()
	}
	switch {
	case h.tmp:
		if left > 0 {
			h.log.Warn("functionhost: closing with queued asynchronous invocations, which are dropped (set Options.SpoolDir to keep them)", "events", left)
		}
		_ = os.RemoveAll(h.spool)
	case left > 0:
		h.log.Info("functionhost: queued asynchronous invocations stay in the spool for the next host", "events", left, "dir", h.spool)
	}
}
