package embedded

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/worker"
)

// runner runs activity attempts through the invoker on a bounded pool of
// goroutines, retries them per their policy, and hands final results to
// the processor.
type runner struct {
	p          *processor
	invoker    faas.Invoker
	inProcess  bool // activities can heartbeat
	defTimeout time.Duration

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []task
	closed  bool
	timers  map[*time.Timer]struct{}
	running sync.WaitGroup // pool goroutines
	ctx     context.Context
	cancel  context.CancelFunc
}

func newRunner(p *processor, inv faas.Invoker, opts worker.Options) *runner {
	n := opts.MaxConcurrentActivities
	if n <= 0 {
		n = 256
	}
	def := opts.DefaultStartToClose
	if def <= 0 {
		def = 10 * time.Minute
	}
	_, inProcess := inv.(*faas.InProcess)
	r := &runner{p: p, invoker: inv, inProcess: inProcess, defTimeout: def, timers: map[*time.Timer]struct{}{}}
	r.cond = sync.NewCond(&r.mu)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.running.Add(n)
	for range n {
		go r.loop()
	}
	return r
}

// submit queues tasks; those not yet visible (retry back-off) wait.
func (r *runner) submit(ts ...task) {
	if len(ts) == 0 {
		return
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return // left in the store: the next worker runs them
	}
	for _, t := range ts {
		if d := t.visibleAt.Sub(now); d > 0 {
			var tm *time.Timer
			tm = time.AfterFunc(d, func() {
				r.mu.Lock()
				delete(r.timers, tm)
				r.mu.Unlock()
				t.visibleAt = time.Time{}
				r.submit(t)
			})
			r.timers[tm] = struct{}{}
			continue
		}
		r.queue = append(r.queue, t)
		r.cond.Signal()
	}
}

func (r *runner) loop() {
	defer r.running.Done()
	for {
		r.mu.Lock()
		for len(r.queue) == 0 && !r.closed {
			r.cond.Wait()
		}
		if r.closed {
			r.mu.Unlock()
			return
		}
		t := r.queue[0]
		r.queue[0] = task{}
		r.queue = r.queue[1:]
		r.mu.Unlock()
		r.attempt(t)
	}
}

func (r *runner) attempt(t task) {
	ev := &t.ev
	var opts core.ActivityOptions
	if ev.Options != nil {
		opts = *ev.Options
	}
	timeout := opts.StartToClose
	if timeout <= 0 {
		timeout = r.defTimeout
	}
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	var silent atomic.Bool
	if hb := opts.HeartbeatTimeout; hb > 0 && r.inProcess {
		ctx = watchHeartbeats(ctx, cancel, hb, &silent)
	}
	data, err := r.invoker.Invoke(ctx, faas.Request{Activity: ev.Name, Input: ev.Payload, InstanceID: t.instanceID,
		TaskID: ev.TaskID, Attempt: t.attempt, IdempotencyKey: activity.IdempotencyKey(t.instanceID, ev.TaskID, t.attempt)})
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	cancel()
	if r.ctx.Err() != nil {
		return // hard stop: the task stays in the store and is redelivered
	}
	if err == nil && !silent.Load() {
		r.p.done <- completion{task: t, event: replay.Event{Type: replay.ActivityCompleted, TaskID: ev.TaskID, Payload: data, Attempt: t.attempt, Time: time.Now()}}
		return
	}
	f := core.FailureFrom(err)
	var fe *faas.Error
	switch {
	case silent.Load():
		f = core.HeartbeatTimeout(ev.Name, t.attempt, opts.HeartbeatTimeout)
	case timedOut && !errors.As(err, &fe):
		f = core.StartToCloseTimeout(ev.Name, t.attempt, timeout)
	}
	if opts.Retry.ShouldRetry(t.attempt, f) {
		next := t
		next.attempt++
		next.visibleAt = time.Now().Add(opts.Retry.Delay(next.attempt))
		r.submit(next)
		return
	}
	r.p.done <- completion{task: t, event: replay.Event{Type: replay.ActivityFailed, TaskID: ev.TaskID, Failure: f, Attempt: t.attempt, Time: time.Now()}}
}

// shutdown stops taking tasks, waits for attempts in flight until ctx
// ends, then abandons the rest (they stay in the store).
func (r *runner) shutdown(ctx context.Context) {
	r.mu.Lock()
	r.closed = true
	r.queue = nil
	for tm := range r.timers {
		tm.Stop()
	}
	r.timers = nil
	r.cond.Broadcast()
	r.mu.Unlock()
	finished := make(chan struct{})
	go func() { r.running.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-ctx.Done():
		r.cancel()
		<-finished
	}
	r.cancel()
}

// watchHeartbeats makes activity.Heartbeat calls reach a watchdog that
// cancels the attempt (and sets silent) when none came for timeout. Only
// in-process activities can heartbeat; remote invocations are bounded by
// their start-to-close timeout.
func watchHeartbeats(ctx context.Context, cancel context.CancelFunc, timeout time.Duration, silent *atomic.Bool) context.Context {
	beat := make(chan struct{}, 1)
	ctx = activity.WithHeartbeat(ctx, func(any) {
		select {
		case beat <- struct{}{}:
		default:
		}
	})
	go func() {
		t := time.NewTimer(timeout)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-beat:
				t.Reset(timeout)
			case <-t.C:
				silent.Store(true)
				cancel()
				return
			}
		}
	}()
	return ctx
}
