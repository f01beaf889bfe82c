package orchestrationtest

import (
	"context"
	"sync"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/engine"
)

// virtualClock is the harness's time: it stands still while the engine
// works and jumps to the next timer when the engine waits only for time.
// Timers fire in due order (ties in creation order), synchronously in
// Advance.
type virtualClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    int
	timers map[*vtimer]struct{}
	// attempts are the activity attempts in flight (their deadline
	// contexts); waiting counts those whose code waits on the context.
	attempts map[*deadlineCtx]struct{}
}

var _ engine.Clock = (*virtualClock)(nil)

type vtimer struct {
	c   *virtualClock
	at  time.Time
	seq int
	f   func()
}

func newVirtualClock(start time.Time) *virtualClock {
	return &virtualClock{now: start, timers: map[*vtimer]struct{}{}, attempts: map[*deadlineCtx]struct{}{}}
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) AfterFunc(d time.Duration, f func()) engine.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &vtimer{c: c, at: c.now.Add(max(d, 0)), seq: c.seq, f: f}
	c.timers[t] = struct{}{}
	return t
}

func (t *vtimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	_, ok := t.c.timers[t]
	delete(t.c.timers, t)
	return ok
}

// next returns the earliest timer's due time.
func (c *virtualClock) next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var at time.Time
	found := false
	for t := range c.timers {
		if !found || t.at.Before(at) {
			at, found = t.at, true
		}
	}
	return at, found
}

// advance moves the clock to the earliest timer (not before now) and fires
// every timer due by then, in order. It reports false when no timer is
// left.
func (c *virtualClock) advance() bool {
	at, ok := c.next()
	if !ok {
		return false
	}
	c.mu.Lock()
	if at.After(c.now) {
		c.now = at
	}
	c.mu.Unlock()
	c.fireDue()
	return true
}

// fireDue fires the timers due now, in due order.
func (c *virtualClock) fireDue() {
	for {
		c.mu.Lock()
		var first *vtimer
		for t := range c.timers {
			if !t.at.After(c.now) && (first == nil || t.at.Before(first.at) || (t.at.Equal(first.at) && t.seq < first.seq)) {
				first = t
			}
		}
		if first != nil {
			delete(c.timers, first)
		}
		c.mu.Unlock()
		if first == nil {
			return
		}
		first.f()
	}
}

// waitingAttempts returns how many activity attempts are in flight and
// how many of them wait on their context.
func (c *virtualClock) waitingAttempts() (inFlight, waiting int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for a := range c.attempts {
		inFlight++
		if a.waiting {
			waiting++
		}
	}
	return inFlight, waiting
}

// WithTimeout returns an attempt's context: its deadline is a virtual
// timer, and a call of Done marks the attempt as waiting on it (an
// activity blocked until it is cancelled or times out).
func (c *virtualClock) WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	inner, cancel := context.WithCancelCause(parent)
	dc := &deadlineCtx{Context: inner, c: c}
	c.mu.Lock()
	dc.deadline = c.now.Add(d)
	c.attempts[dc] = struct{}{}
	c.mu.Unlock()
	t := c.AfterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return dc, func() {
		t.Stop()
		cancel(context.Canceled)
		c.mu.Lock()
		delete(c.attempts, dc)
		c.mu.Unlock()
	}
}

// deadlineCtx is a context with a virtual deadline.
type deadlineCtx struct {
	context.Context
	c        *virtualClock
	deadline time.Time
	waiting  bool // guarded by c.mu
}

func (d *deadlineCtx) Deadline() (time.Time, bool) { return d.deadline, true }

func (d *deadlineCtx) Done() <-chan struct{} {
	d.c.mu.Lock()
	d.waiting = true
	d.c.mu.Unlock()
	return d.Context.Done()
}

func (d *deadlineCtx) Err() error {
	if d.Context.Err() == nil {
		return nil
	}
	if cause := context.Cause(d.Context); cause == context.DeadlineExceeded {
		return context.DeadlineExceeded
	}
	return context.Canceled
}

func (d *deadlineCtx) Value(key any) any { return d.Context.Value(key) }
