package engine

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/activityctx"
	"github.com/cloudbutton/cloudbutton/internal/billing"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/worker"
)

// runner runs activity attempts through the invoker on a bounded pool of
// goroutines and hands their outcomes to the processor.
//
// Retry state is durable. An activity with a retry policy starts each
// attempt only once the attempt is marked started in the store (a commit
// of the processor's), and a retry is written, with its due time, in the
// commit that records the failed attempt's outcome; so a restart neither
// resets the attempt number nor exceeds MaxAttempts, and an attempt cut
// short by a crash counts. An activity without a retry policy starts at
// once (even before the commit that schedules it lands) and runs at least
// once: after a crash it runs again as the next attempt, with its own
// idempotency key.
//
// Terminate stops work: the queued and waiting attempts of a terminated
// run never start, running ones have their context cancelled, and each
// ends as a Canceled failure; a late result is dropped.
type runner struct {
	p         *processor
	clock     Clock
	invoker   faas.Invoker
	inProcess bool // activities can heartbeat
	// metered: the invoker may report usage (billing.Reports), so each
	// attempt gets a usage reporter.
	metered    bool
	defTimeout time.Duration

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []task
	closed  bool
	timers  map[Timer]task
	running map[string]map[*attemptRun]struct{} // by instance
	// held instances are being terminated by a client of this process:
	// their queued attempts wait in parked until the termination is
	// applied (and they are cancelled) or the run ends.
	held     map[string]bool
	parked   map[string][]task
	canceled map[string]cancelMark
	keys     *keyLimits     // nil: no key limits
	pool     sync.WaitGroup // pool goroutines
	ctx      context.Context
	cancel   context.CancelFunc
}

// cancelMark says which tasks of an instance terminate cancelled: those of
// its runs up to generation, up to task id maxTask in that generation.
type cancelMark struct {
	generation int
	maxTask    int64
}

func (m cancelMark) covers(t *task) bool {
	return t.generation < m.generation || (t.generation == m.generation && t.ev.TaskID <= m.maxTask)
}

// attemptRun is an attempt in flight; settled is set by whoever reports
// its outcome first (the attempt, or a cancellation).
type attemptRun struct {
	t       task
	started time.Time
	cancel  context.CancelFunc
	settled atomic.Bool
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
	local, ok := inv.(faas.Local)
	inProcess := ok && local.Local()
	r := &runner{p: p, clock: p.e.clock, invoker: inv, inProcess: inProcess, metered: billing.Reports(inv), defTimeout: def,
		timers: map[Timer]task{}, running: map[string]map[*attemptRun]struct{}{},
		held: map[string]bool{}, parked: map[string][]task{}, canceled: map[string]cancelMark{}}
	r.keys = newKeyLimits(opts.KeyLimits)
	r.cond = sync.NewCond(&r.mu)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.pool.Add(n)
	for range n {
		go r.loop()
	}
	return r
}

// submit queues tasks; those not yet due (retry back-off) wait on a timer.
func (r *runner) submit(ts ...task) {
	if len(ts) == 0 {
		return
	}
	now := r.clock.Now()
	var out []completion
	r.mu.Lock()
	defer func() {
		r.mu.Unlock()
		r.report(out)
	}()
	if r.closed {
		return // left in the store: the next worker runs them
	}
	for _, t := range ts {
		if m, ok := r.canceled[t.instanceID]; t.canceled || (ok && m.covers(&t)) {
			out = append(out, r.canceledCompletion(t, time.Time{}))
			continue
		}
		if d := t.visibleAt.Sub(now); d > 0 {
			var tm Timer
			tm = r.clock.AfterFunc(d, func() {
				r.mu.Lock()
				_, live := r.timers[tm]
				delete(r.timers, tm)
				r.mu.Unlock()
				if live {
					t.visibleAt = time.Time{}
					r.submit(t)
				}
			})
			r.timers[tm] = t
			continue
		}
		if r.limited(t) {
			continue // it waits for room under its key's limit
		}
		r.queue = append(r.queue, t)
		r.p.work.add(1)
		r.cond.Signal()
	}
}

// requeue queues a parked task again, under its key's limit if any.
// Called with r.mu held.
func (r *runner) requeue(t task) {
	t.keySlot = false // given back when it was parked
	if r.limited(t) {
		return
	}
	r.queue = append(r.queue, t)
	r.p.work.add(1)
	r.cond.Signal()
}

// report hands outcomes to the processor without blocking the caller
// (which may be the processor itself).
func (r *runner) report(cs []completion) {
	if len(cs) == 0 {
		return
	}
	r.p.work.add(len(cs))
	go func() {
		for _, c := range cs {
			r.p.done <- c
		}
	}()
}

func (r *runner) loop() {
	defer r.pool.Done()
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
		if r.held[t.instanceID] {
			r.freeSlot(&t)
			r.parked[t.instanceID] = append(r.parked[t.instanceID], t)
			r.mu.Unlock()
			r.p.work.done(1) // it waits for the termination to be applied
			continue
		}
		r.mu.Unlock()
		switch {
		case t.canceled:
			r.p.send(r.canceledCompletion(t, time.Time{}))
		case t.interrupted:
			// Its usage went with the worker.
			r.failed(&t, core.InterruptedFailure(t.ev.Name, t.attempt), billing.Usage{}, t.startedBefore())
		case !t.marked && !r.mark(t):
		default:
			r.attempt(t)
		}
		if t.keySlot {
			r.keyDone(&t)
		}
		r.p.work.done(1)
	}
}

// mark makes the attempt durably started before it runs, and reports
// whether to run it (false: the run ended, the commit failed, the worker
// stops, or the instance was terminated meanwhile).
func (r *runner) mark(t task) bool {
	ok := make(chan bool, 1)
	a := t.retryState(r.clock.Now())
	r.p.work.add(1)
	select {
	case r.p.done <- completion{task: t, attempt: &a, marked: ok}:
	case <-r.ctx.Done():
		r.p.work.done(1)
		return false
	}
	select {
	case run := <-ok:
		if !run {
			return false
		}
	case <-r.ctx.Done():
		return false
	}
	r.mu.Lock()
	m, canceled := r.canceled[t.instanceID]
	r.mu.Unlock()
	if canceled && m.covers(&t) {
		r.p.send(r.canceledCompletion(t, time.Time{}))
		return false
	}
	return true
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
	started := r.clock.Now()
	ctx, cancel := r.clock.WithTimeout(r.ctx, timeout)
	run := &attemptRun{t: t, started: started, cancel: cancel}
	switch r.track(run) {
	case trackCanceled:
		cancel()
		r.reportCanceled(&run.t, time.Time{})
		return
	case trackHeld:
		cancel() // parked until the termination is applied
		return
	}
	defer r.untrack(run)
	var silent atomic.Bool
	if hb := opts.HeartbeatTimeout; hb > 0 && r.inProcess {
		var stopWatch func()
		ctx, stopWatch = r.watchHeartbeats(ctx, cancel, hb, &silent)
		defer stopWatch()
	}
	var meter *billing.Meter
	ictx := ctx
	if r.metered {
		meter = &billing.Meter{}
		ictx = meter.Context(ctx)
	}
	data, err := r.invoke(ictx, &t, faas.Request{Activity: ev.Name, Input: ev.Payload, InstanceID: t.instanceID,
		RunID: t.runID, TaskID: ev.TaskID, Attempt: t.attempt,
		IdempotencyKey: activityctx.IdempotencyKey(t.instanceID, t.runID, ev.TaskID, t.attempt)})
	used := meter.Usage() // reported before Invoke returned
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	cancel()
	if !run.settled.CompareAndSwap(false, true) {
		return // cancelled by terminate: its Canceled failure is reported; the late result is dropped
	}
	if r.ctx.Err() != nil {
		return // hard stop: the task stays in the store and is redelivered
	}
	if err == nil && !silent.Load() {
		r.completed(&run.t, data, used, started)
		return
	}
	f := failerr.From(err)
	switch {
	case silent.Load():
		f = core.HeartbeatTimeout(ev.Name, t.attempt, opts.HeartbeatTimeout)
	case timedOut:
		f = core.StartToCloseTimeout(ev.Name, t.attempt, timeout)
	}
	r.failed(&run.t, f, used, started)
}

// The outcomes of an attempt are reported by functions of their own, not
// inlined into attempt: attempt's frame is on the stack of every
// invocation, and the completions they build are large (a pool
// goroutine whose stack outgrows its size grows it again after each
// garbage collection shrank it).

// completed reports attempt t's result data, which was billed used.
//
//go:noinline
func (r *runner) completed(t *task, data []byte, used billing.Usage, started time.Time) {
	r.p.send(completion{task: *t, usage: used,
		event: t.result(replay.Event{Type: replay.ActivityCompleted, Payload: data, Time: r.clock.Now()}, started)})
}

// reportCanceled reports the Canceled failure of attempt t.
//
//go:noinline
func (r *runner) reportCanceled(t *task, started time.Time) {
	r.p.send(r.canceledCompletion(*t, started))
}

// failed decides what follows attempt t's failure f, which was billed
// used and started at started: a durable retry (the processor writes it
// and submits it once committed) or the task's final failure; either
// records used.
//
//go:noinline
func (r *runner) failed(t *task, f *core.Failure, used billing.Usage, started time.Time) {
	policy := t.policy()
	now := r.clock.Now()
	if policy.ShouldRetry(t.attempt, f) {
		next := t.retry(f, started, now, now.Add(policy.Delay(t.attempt+1)))
		a := next.retryState(time.Time{})
		r.p.send(completion{task: next, attempt: &a, usage: used})
		return
	}
	r.p.send(completion{task: *t, usage: used,
		event: t.result(replay.Event{Type: replay.ActivityFailed, Failure: f, Time: now}, started)})
}

// canceledCompletion is the Canceled failure of task t's attempt, which
// started at started (zero: it did not start).
func (r *runner) canceledCompletion(t task, started time.Time) completion {
	return completion{task: t, event: t.result(replay.Event{Type: replay.ActivityFailed, Time: r.clock.Now(),
		Failure: core.ActivityCanceled(t.ev.Name, t.attempt)}, started)}
}

// track registers a running attempt, unless its run was terminated or is
// being terminated meanwhile.
func (r *runner) track(run *attemptRun) trackResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := run.t.instanceID
	if m, ok := r.canceled[id]; ok && m.covers(&run.t) {
		return trackCanceled
	}
	if r.held[id] {
		// Terminate came after the task left the queue: it does not start.
		r.parked[id] = append(r.parked[id], run.t)
		return trackHeld
	}
	rs := r.running[id]
	if rs == nil {
		rs = map[*attemptRun]struct{}{}
		r.running[id] = rs
	}
	rs[run] = struct{}{}
	return trackRunning
}

// trackResult says whether an attempt may start.
type trackResult int

const (
	trackRunning  trackResult = iota
	trackCanceled             // its run was terminated
	trackHeld                 // its run is being terminated: parked
)

// runningAttempts returns the attempts of generation of instance id
// running now, by task id: until their outcome is handed to the processor
// (a result being committed then is in neither the history nor here).
func (r *runner) runningAttempts(id string, generation int) map[int64]runningAttempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out map[int64]runningAttempt
	for run := range r.running[id] {
		if run.t.generation != generation {
			continue
		}
		if out == nil {
			out = map[int64]runningAttempt{}
		}
		out[run.t.ev.TaskID] = runningAttempt{attempt: run.t.attempt, started: run.started}
	}
	return out
}

func (r *runner) untrack(run *attemptRun) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rs := r.running[run.t.instanceID]
	delete(rs, run)
	if len(rs) == 0 {
		delete(r.running, run.t.instanceID)
	}
}

// hold keeps the queued attempts of an instance from starting until its
// termination is applied (cancelInstance) or it ends (release).
func (r *runner) hold(id string) {
	r.mu.Lock()
	r.held[id] = true
	r.mu.Unlock()
}

// cancelInstance stops the work of a terminated run: its tasks up to
// maxTask (those scheduled before the termination; clean-up scheduled
// after it runs) never start, running ones are cancelled, and each ends
// as a Canceled failure.
func (r *runner) cancelInstance(id string, generation int, maxTask int64) {
	m := cancelMark{generation: generation, maxTask: maxTask}
	var out []completion
	r.mu.Lock()
	r.canceled[id] = m
	kept := r.queue[:0]
	var freed []task // removed holding a key's slot
	for _, t := range r.queue {
		if t.instanceID == id && m.covers(&t) {
			out = append(out, r.canceledCompletion(t, time.Time{}))
			if t.keySlot {
				freed = append(freed, t)
			}
		} else {
			kept = append(kept, t)
		}
	}
	removed := len(r.queue) - len(kept)
	clear(r.queue[len(kept):])
	r.queue = kept
	defer r.p.work.done(removed)
	for tm, t := range r.timers {
		if t.instanceID == id && m.covers(&t) {
			tm.Stop()
			delete(r.timers, tm)
			out = append(out, r.canceledCompletion(t, time.Time{}))
		}
	}
	for _, t := range r.cancelKeyed(id, m) {
		out = append(out, r.canceledCompletion(t, time.Time{}))
	}
	for _, t := range r.parked[id] {
		if m.covers(&t) {
			out = append(out, r.canceledCompletion(t, time.Time{}))
		} else {
			r.requeue(t)
		}
	}
	delete(r.parked, id)
	delete(r.held, id)
	for run := range r.running[id] {
		if m.covers(&run.t) && run.settled.CompareAndSwap(false, true) {
			run.cancel()
			out = append(out, r.canceledCompletion(run.t, run.started))
		}
	}
	// The slots of removed attempts go to the next waiting ones (this
	// instance's covered ones are out of the keys' queues by now).
	for i := range freed {
		r.freeSlot(&freed[i])
	}
	r.mu.Unlock()
	r.report(out)
}

// unhold undoes hold (the termination was refused).
func (r *runner) unhold(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.held, id)
	for _, t := range r.parked[id] {
		r.requeue(t)
	}
	delete(r.parked, id)
}

// release forgets an instance whose run ended: its parked attempts are
// stale.
func (r *runner) release(id string) {
	r.mu.Lock()
	delete(r.held, id)
	delete(r.parked, id)
	delete(r.canceled, id)
	r.mu.Unlock()
}

// reset forgets every task (queued, waiting, parked) and abandons the
// attempts in flight, whose results are dropped: after a failed commit the
// processor rebuilds all of it from the store.
func (r *runner) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.p.work.done(len(r.queue))
	r.dropQueuedSlots()
	clear(r.queue)
	r.queue = r.queue[:0]
	for tm := range r.timers {
		tm.Stop()
	}
	clear(r.timers)
	r.dropKeyed()
	clear(r.parked)
	clear(r.held)
	clear(r.canceled)
	for _, rs := range r.running {
		for run := range rs {
			if run.settled.CompareAndSwap(false, true) {
				run.cancel()
			}
		}
	}
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
	r.dropKeyed()
	r.cond.Broadcast()
	r.mu.Unlock()
	finished := make(chan struct{})
	go func() { r.pool.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-ctx.Done():
		r.cancel()
		<-finished
	}
	r.cancel()
}

// watchHeartbeats makes activity.Heartbeat calls re-arm a watchdog that
// cancels the attempt (and sets silent) when none came for timeout. Only
// in-process activities can heartbeat; remote invocations are bounded by
// their start-to-close timeout.
func (r *runner) watchHeartbeats(ctx context.Context, cancel context.CancelFunc, timeout time.Duration, silent *atomic.Bool) (context.Context, func()) {
	var mu sync.Mutex
	var dog Timer
	arm := func() {
		mu.Lock()
		defer mu.Unlock()
		if dog != nil && !dog.Stop() {
			return // it fired: the attempt is over
		}
		dog = r.clock.AfterFunc(timeout, func() {
			silent.Store(true)
			cancel()
		})
	}
	arm()
	stop := func() {
		mu.Lock()
		dog.Stop()
		mu.Unlock()
	}
	return activityctx.WithHeartbeat(ctx, func(any) {
		if ctx.Err() == nil {
			arm()
		}
	}), stop
}
