package replay

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/core"
)

// coroutine is one goroutine of orchestrator code. Exactly one coroutine of
// an instance runs at a time: the scheduler resumes it and waits until it
// yields (it waits on an unresolved future) or ends.
type coroutine struct {
	fn      func()
	resume  chan struct{}
	yield   chan struct{}
	started bool
	done    bool
	exit    bool // set by the scheduler to unwind the coroutine

	waits      []core.Waitable
	cancelable bool
}

// runnable reports whether a started coroutine can make progress.
func (c *coroutine) runnable(canceled bool) bool {
	if c.done {
		return false
	}
	if !c.started {
		return true
	}
	if c.cancelable && canceled {
		return true
	}
	for _, w := range c.waits {
		if w.Ready() {
			return true
		}
	}
	return false
}

// scheduler runs coroutines cooperatively and deterministically: in
// creation order, each until it yields, until none can progress.
type scheduler struct {
	coros    []*coroutine
	deadlock time.Duration
	timer    *time.Timer
	// onPanic is called (on the coroutine's goroutine) with a recovered
	// panic and its stack.
	onPanic func(v any, stack []byte)
	// stopped is checked after each resume: a finished orchestration stops
	// the drain.
	stopped func() bool
	broken  atomic.Bool // a coroutine deadlocked: the instance is unusable
}

func newScheduler(deadlock time.Duration) *scheduler {
	if deadlock <= 0 {
		deadlock = 2 * time.Second
	}
	return &scheduler{deadlock: deadlock}
}

// spawn adds a coroutine; it first runs in the current or next drain.
func (s *scheduler) spawn(fn func()) *coroutine {
	c := &coroutine{fn: fn, resume: make(chan struct{}, 1), yield: make(chan struct{}, 1)}
	s.coros = append(s.coros, c)
	return c
}

// drain runs coroutines until none is runnable. It returns a
// *core.DeadlockError if one did not yield within the deadlock timeout.
func (s *scheduler) drain(canceled bool) error {
	if s.broken.Load() {
		return nil
	}
	for progress := true; progress; {
		progress = false
		for i := 0; i < len(s.coros); i++ { // coroutines spawned meanwhile run in this pass
			c := s.coros[i]
			if !c.runnable(canceled) {
				continue
			}
			if err := s.run(c); err != nil {
				return err
			}
			progress = true
			if s.stopped != nil && s.stopped() {
				return nil
			}
		}
		s.compact()
	}
	return nil
}

func (s *scheduler) compact() {
	live := s.coros[:0]
	for _, c := range s.coros {
		if !c.done {
			live = append(live, c)
		}
	}
	clear(s.coros[len(live):])
	s.coros = live
}

func (s *scheduler) run(c *coroutine) error {
	c.waits = nil
	if !c.started {
		c.started = true
		go s.body(c)
	}
	if s.timer == nil {
		s.timer = time.NewTimer(s.deadlock)
	} else {
		s.timer.Reset(s.deadlock)
	}
	c.resume <- struct{}{}
	select {
	case <-c.yield:
		s.timer.Stop()
		return nil
	case <-s.timer.C:
		s.broken.Store(true)
		return &core.DeadlockError{Timeout: s.deadlock.String()}
	}
}

func (s *scheduler) body(c *coroutine) {
	defer func() {
		if r := recover(); r != nil && !s.broken.Load() {
			if s.onPanic != nil {
				s.onPanic(r, debug.Stack())
			}
		}
		c.done = true
		c.yield <- struct{}{}
	}()
	<-c.resume
	if c.exit {
		runtime.Goexit()
	}
	c.fn()
}

// wait is called on a coroutine's goroutine: it yields until one of ws is
// ready (or cancellation, when cancelable) and returns its index, -1 on
// cancellation.
func (s *scheduler) wait(c *coroutine, ws []core.Waitable, cancelable bool, canceled func() bool) int {
	if c.exit || s.broken.Load() {
		runtime.Goexit() // a deferred call waiting while the coroutine unwinds
	}
	for {
		for i, w := range ws {
			if w.Ready() {
				return i
			}
		}
		if cancelable && canceled() {
			return -1
		}
		c.waits, c.cancelable = ws, cancelable
		c.yield <- struct{}{}
		<-c.resume
		if c.exit || s.broken.Load() {
			runtime.Goexit()
		}
	}
}

// close unwinds every coroutine that is still blocked (running its
// deferred calls) so no goroutine outlives the instance. A coroutine stuck
// outside the engine (deadlock) cannot be unwound and is abandoned.
func (s *scheduler) close() {
	if s.timer != nil {
		s.timer.Stop()
	}
	for len(s.coros) > 0 {
		coros := s.coros
		s.coros = nil
		for _, c := range coros {
			if s.broken.Load() || c.done || !c.started {
				continue
			}
			c.exit = true
			c.resume <- struct{}{}
			<-c.yield
		}
	}
}
