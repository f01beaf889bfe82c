package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/billing"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
	"github.com/cloudbutton/cloudbutton/internal/telemetry"
	"github.com/cloudbutton/cloudbutton/worker"
)

// maxBatch bounds the incoming events handled (and committed) together.
const maxBatch = 8192

// task is an activity attempt to run: its ActivityScheduled event.
type task struct {
	instanceID string
	generation int
	runID      string
	ev         replay.Event
	attempt    int
	visibleAt  time.Time // not before (retry back-off)
	// marked: the attempt needs no durable start mark (no retry policy,
	// first run) or has one.
	marked bool
	// interrupted: the attempt was in flight when the previous worker
	// stopped; its policy decides what follows. canceled: its run was
	// terminated before it started.
	interrupted, canceled bool
	// keySlot: the attempt holds a slot of its key's limit (keys.go).
	keySlot bool
	// log is the task's retry history: nil for a first attempt.
	log *retryLog
}

// retryLog is what a task past its first attempt knows of its attempts:
// when the current one became due (and, found after a crash, when it
// started), and the attempts retried so far. It travels with the retry
// state (store.Attempt) and ends in the task's result event.
type retryLog struct {
	dueAt, startedAt time.Time
	retried          []replay.AttemptRecord
}

// startedBefore is when an interrupted attempt started, as the previous
// worker recorded it.
func (t *task) startedBefore() time.Time {
	if t.log == nil {
		return time.Time{}
	}
	return t.log.startedAt
}

func (t *task) retried() []replay.AttemptRecord {
	if t.log == nil {
		return nil
	}
	return t.log.retried
}

// retry is the task's next attempt, due at due, after the current one,
// which started at started and failed with f at now.
func (t task) retry(f *core.Failure, started, now, due time.Time) task {
	rec := replay.AttemptRecord{Attempt: t.attempt, StartedAt: started, FinishedAt: now, Failure: f, RetryAt: due}
	next := t
	next.attempt++
	next.visibleAt = due
	next.marked, next.interrupted = false, false
	next.log = &retryLog{dueAt: due, retried: append(slices.Clip(t.retried()), rec)}
	return next
}

// result is the result event ev of the task's current attempt, which
// started at started (zero: it did not), with the attempts retried
// before it.
func (t *task) result(ev replay.Event, started time.Time) replay.Event {
	ev.TaskID, ev.Attempt = t.ev.TaskID, t.attempt
	if retried := t.retried(); len(retried) > 0 || !started.IsZero() {
		ev.Attempts = &replay.AttemptLog{StartedAt: started, Retried: retried}
	}
	return ev
}

// retryState is the durable retry state of the task's current attempt,
// started at started (zero: not started).
func (t *task) retryState(started time.Time) store.Attempt {
	a := store.Attempt{TaskID: t.ev.TaskID, Attempt: t.attempt, Started: !started.IsZero(), StartedAt: started}
	if t.log != nil {
		a.DueAt, a.Retried = t.log.dueAt, t.log.retried
	}
	return a
}

// policy is the task's retry policy (nil: none).
func (t *task) policy() *core.RetryPolicy {
	if t.ev.Options == nil {
		return nil
	}
	return t.ev.Options.Retry
}

// completion is what the runner reports of a task: an attempt's final
// result (event), or retry state to write (attempt) — a retry with its due
// time, or a start mark whose commit is told on marked.
type completion struct {
	task    task
	event   replay.Event
	attempt *store.Attempt
	marked  chan bool
	// usage is what the attempt whose outcome this is (event, or a retry
	// in attempt) was billed, as its invoker reported it.
	usage billing.Usage
}

// processor is the worker's orchestration side: one goroutine that owns
// the cache of live instances, applies batches of incoming events (inbox
// messages and activity completions), and commits each batch in one
// transaction before acting on it.
type processor struct {
	e      *Engine
	st     store.Store
	reg    *worker.Registry
	log    *slog.Logger
	ropts  replay.Options
	cache  *lru
	runner *runner
	tel    *telemetry.T // nil: off
	// unobserve unregisters the gauge of pending activities.
	unobserve func()

	done      chan completion
	pokeCh    chan struct{}
	evictCh   chan statusChange
	stopCh    chan struct{}
	stopOnce  sync.Once
	exited    chan struct{}
	inflight  map[int64]bool
	nextTimer time.Time
	// statusWaiters wait for the steps of an instance made before a
	// status change to be written (statusChange.done).
	statusWaiters map[string][]chan struct{}
	// suspendsSeen is when the processor last looked for instances
	// suspended by other processes.
	suspendsSeen time.Time
	work         *work
	// warnedNames are the orchestrator names not hosted here that were
	// logged.
	warnedNames sync.Map
	// submitted is, by instance, the run whose activities without a
	// result this processor submitted when it loaded them from history
	// (recovery, a rewind): a rewind's restart does it once per run.
	submitted map[string]string

	startCh chan *startRequest
	queryCh chan *queryRequest
	acc     *pending // applied, waiting for the committer
	// pollAfterCommit defers a poll of the inbox until the batch being
	// committed has been acted on.
	pollAfterCommit bool
	inCommit        *pending // being committed
	commitReq       chan *pending
	commitDone      chan error
	ctx             context.Context
}

func newProcessor(ctx context.Context, e *Engine, reg *worker.Registry, opts worker.Options) (*processor, error) {
	inv := opts.Invoker
	if inv == nil {
		var err error
		inv, err = faas.NewInProcess(reg.ActivityDefinitions(), faas.InProcessOptions{
			Codec: e.opts.Codec, Limits: e.limits(), MaxConcurrent: opts.MaxConcurrentActivities})
		if err != nil {
			return nil, fmt.Errorf("embedded: %w", err)
		}
	}
	log := opts.Logger
	if log == nil {
		log = e.log
	}
	opts.Logger = log
	tel, err := newTelemetry(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded: telemetry: %w", err)
	}
	p := &processor{
		e: e, st: e.store, reg: reg, log: log, work: e.newWork(), tel: tel,
		ropts:         replay.Options{Codec: e.opts.Codec, Limits: e.limits(), DeadlockTimeout: e.opts.DeadlockTimeout, Logger: log},
		cache:         newLRU(opts.CacheSize),
		done:          make(chan completion, 4096),
		pokeCh:        make(chan struct{}, 1),
		evictCh:       make(chan statusChange, 1024),
		statusWaiters: map[string][]chan struct{}{},
		stopCh:        make(chan struct{}),
		exited:        make(chan struct{}),
		inflight:      map[int64]bool{},
		submitted:     map[string]string{},

		commitReq:  make(chan *pending, 1),
		startCh:    make(chan *startRequest, 1024),
		queryCh:    make(chan *queryRequest),
		commitDone: make(chan error, 1),
		ctx:        context.WithoutCancel(ctx),
	}
	p.runner = newRunner(p, inv, opts)
	if p.unobserve, err = tel.ObservePending(p.runner.pending); err != nil {
		p.runner.shutdown(ctx)
		return nil, fmt.Errorf("embedded: telemetry: %w", err)
	}
	if err := p.recover(ctx); err != nil {
		p.unobserve()
		p.runner.shutdown(ctx)
		p.cache.clear()
		return nil, err
	}
	p.poke()
	return p, nil
}

func (p *processor) poke() {
	p.work.add(1)
	select {
	case p.pokeCh <- struct{}{}:
	default:
		p.work.done(1) // one is pending already
	}
}

// resend hands completions back to the processor later (a step that
// could not take them), from another goroutine.
func (p *processor) resend(comps []completion) {
	var again []completion
	for _, c := range comps {
		if c.attempt == nil {
			again = append(again, c)
		}
	}
	p.runner.report(again)
}

// send hands a runner's report to the processor.
func (p *processor) send(c completion) {
	p.work.add(1)
	p.done <- c
}

// stop finishes in-flight activities (until ctx ends; the rest are
// redelivered to the next worker), commits their results and exits.
func (p *processor) stop(ctx context.Context) error {
	p.stopOnce.Do(func() {
		p.runner.shutdown(ctx)
		close(p.stopCh)
	})
	select {
	case <-p.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("embedded: worker stop: %w", ctx.Err())
	}
}

func (p *processor) run() {
	defer close(p.exited)
	defer p.unobserve()
	defer p.tel.Close()
	defer p.cache.clear()
	go p.committer()
	defer close(p.commitReq)
	tick := make(chan struct{}, 1)
	var timer Timer
	rearm := func(d time.Duration) {
		if timer != nil {
			timer.Stop()
		}
		timer = p.e.clock.AfterFunc(d, func() {
			p.work.add(1)
			select {
			case tick <- struct{}{}:
			default:
				p.work.done(1)
			}
		})
	}
	rearm(0)
	defer func() { timer.Stop() }()
	for {
		var comps []completion
		var starts []*startRequest
		poll, tokens := false, 0
		select {
		case c := <-p.done:
			comps = append(comps, c)
		case r := <-p.startCh:
			starts = append(starts, r)
		case r := <-p.queryCh:
			p.query(r)
			tokens = 1
		case err := <-p.commitDone:
			p.committed(err)
			tokens = 1 // the commit, done once its effects (timers) are set
		case <-p.pokeCh:
			poll, tokens = true, 1
		case <-tick:
			poll, tokens = true, 1
		case <-p.stopCh:
			p.drainAndExit()
			return
		}
		p.evictRequested()
		if poll {
			if p.inCommit != nil {
				// The batch being written may already be visible in the
				// store while its effects on the cache (evictions after an
				// end or a continue-as-new) are not applied yet: poll
				// right after it (committed).
				p.pollAfterCommit = true
			} else {
				p.poll()
			}
		}
		comps = p.gather(comps)
		starts = p.gatherStarts(starts)
		if len(comps) > 0 || len(starts) > 0 {
			p.process(nil, comps, starts)
		}
		if poll || !p.nextTimer.IsZero() {
			rearm(p.untilNextPoll())
		}
		p.work.done(tokens + len(comps) + len(starts))
	}
}

// statusChange is an instance's status, changed outside the processor
// (suspend, resume); done, if set, is closed once the processor applied
// it: no step of the instance is made after that under its old status.
type statusChange struct {
	id, status string
	done       chan struct{}
}

// evictRequest tells the processor that an instance's status changed
// outside it; safe from any goroutine.
func (p *processor) evictRequest(c statusChange) {
	p.work.add(1)
	p.evictCh <- c
	p.poke()
}

func (p *processor) evictRequested() {
	for {
		select {
		case c := <-p.evictCh:
			p.work.done(1)
			pinned := p.statusChanged(c.id, c.status)
			switch {
			case c.done == nil:
			case pinned: // once its steps made before are written
				p.statusWaiters[c.id] = append(p.statusWaiters[c.id], c.done)
			default:
				close(c.done)
			}
		default:
			return
		}
	}
}

// statusChanged applies a status set outside the processor to the cached
// instance, and drops it from the cache once its uncommitted steps (only
// in memory) are written; it reports whether it has such steps.
func (p *processor) statusChanged(id, status string) (pinned bool) {
	l := p.cache.get(id)
	if l == nil {
		return false
	}
	if status != "" && !store.Terminal(l.status) {
		l.status = status
	}
	if l.pins > 0 {
		l.evictWhenUnpinned = true
		return true
	}
	p.cache.remove(id)
	return false
}

// releaseStatusWaiters ends the waits of status changes of id (all ids
// when id is ""): its steps made before them are written, or dropped.
func (p *processor) releaseStatusWaiters(id string) {
	for wid, chs := range p.statusWaiters {
		if id == "" || wid == id {
			for _, ch := range chs {
				close(ch)
			}
			delete(p.statusWaiters, wid)
		}
	}
}

// suspendedElsewhere applies the suspends made by clients of other
// processes since the last look (with a second's margin for their
// clocks), before each batch: their instances take no step in a batch
// begun after the suspend returned. (A look is a query on a small partial
// index.)
func (p *processor) suspendedElsewhere() {
	now := p.e.clock.Now()
	ids, err := p.st.SuspendedSince(p.ctx, p.suspendsSeen.Add(-time.Second))
	if err != nil {
		p.log.Error("embedded: reading suspended instances", "err", err)
		return
	}
	p.suspendsSeen = now
	for _, id := range ids {
		if l := p.cache.get(id); l != nil && l.status != store.StatusSuspended {
			p.statusChanged(id, store.StatusSuspended)
		}
	}
}

// poll processes the inbox messages that are visible (events, timers,
// starts from other processes, messages between instances).
func (p *processor) poll() {
	msgs, err := p.st.ReadyMessages(p.ctx, p.e.clock.Now(), maxBatch, p.inflight)
	if err != nil {
		p.log.Error("embedded: reading the inbox", "err", err)
		return
	}
	if len(msgs) == maxBatch {
		p.poke() // more waiting
	}
	if len(msgs) > 0 {
		p.process(msgs, nil, nil)
	}
}

func (p *processor) gather(comps []completion) []completion {
	for len(comps) < maxBatch {
		select {
		case c := <-p.done:
			comps = append(comps, c)
		default:
			return comps
		}
	}
	return comps
}

func (p *processor) drainAndExit() {
	for {
		comps := p.gather(nil)
		if len(comps) == 0 {
			p.flush()
			return
		}
		p.process(nil, comps, nil)
	}
}

// untilNextPoll is the time to the next timer message, or the poll
// interval (work written by other processes).
func (p *processor) untilNextPoll() time.Duration {
	now := p.e.clock.Now()
	next, err := p.st.NextVisible(p.ctx, now)
	if err != nil {
		p.log.Error("embedded: reading timers", "err", err)
	}
	p.nextTimer = time.Time{}
	d := p.e.opts.PollInterval
	if !next.IsZero() && next.Sub(now) < d {
		d = next.Sub(now)
	}
	return max(d, time.Millisecond)
}

// group is the work of one instance in a batch, in arrival order.
type group struct {
	id    string
	start *replay.Event // a new instance's start, applied first
	msgs  []store.Message
	comps []completion
	order []int // >=0: index into msgs; <0: -(index+1) into comps
}

func (p *processor) process(msgs []store.Message, comps []completion, starts []*startRequest) {
	p.suspendedElsewhere()
	groups := map[string]*group{}
	var order []*group
	get := func(id string) *group {
		g := groups[id]
		if g == nil {
			g = &group{id: id}
			groups[id] = g
			order = append(order, g)
		}
		return g
	}
	for i := range msgs {
		p.inflight[msgs[i].ID] = true
		g := get(msgs[i].InstanceID)
		g.order = append(g.order, len(g.msgs))
		g.msgs = append(g.msgs, msgs[i])
	}
	for i := range comps {
		g := get(comps[i].task.instanceID)
		g.order = append(g.order, -(len(g.comps) + 1))
		g.comps = append(g.comps, comps[i])
	}
	b := &batch{p: p, now: p.e.clock.Now()}
	for _, r := range starts {
		if p.admit(b, r) {
			g := get(r.inst.ID)
			g.start = &r.event
		}
	}
	for _, g := range order {
		b.step(g)
	}
	p.cache.trim() // the batch's instances are pinned
	// Speculation: activities start before the commit that schedules them
	// lands (see pending).
	p.runner.submit(b.tasks...)
	if p.acc == nil {
		p.acc = &pending{}
	}
	p.acc.add(b, msgs)
	p.acc.starts = append(p.acc.starts, b.starts...)
	p.maybeCommit()
}

// recover runs again the activities that a previous worker scheduled and
// did not record a result for: history is the task queue. Instances of
// orchestrators this worker does not host are left untouched.
func (p *processor) recover(ctx context.Context) error {
	ins, err := p.st.List(ctx, store.Filter{Statuses: []string{store.StatusPending, store.StatusRunning, store.StatusSuspended}})
	if err != nil {
		return fmt.Errorf("embedded: recovery: %w", err)
	}
	n := 0
	others := map[string]int{}
	for _, in := range ins {
		if _, ok := p.reg.Orchestrator(in.Name); !ok {
			others[in.Name]++
			continue
		}
		if in.Status == store.StatusPending {
			continue // nothing ran yet
		}
		l, pending, err := p.loadWithPending(in.ID)
		if errors.Is(err, store.ErrCorrupt) {
			p.quarantine(in.ID, err)
			continue
		}
		if err != nil {
			return fmt.Errorf("embedded: recovery of %q: %w", in.ID, err)
		}
		if l != nil {
			p.beginRun(l)
			p.runner.submit(pending...)
			p.submitted[in.ID] = l.x.Info().RunID
			n += len(pending)
		}
		p.cache.trim()
	}
	for name, count := range others {
		p.notHosted(name, count)
	}
	if n > 0 {
		p.log.Info("embedded: running again the activities of a previous worker", "activities", n, "instances", len(ins), "store", p.e.name())
	}
	return nil
}

// quarantine sets aside an instance that has a row that does not decode,
// and says so: the others keep running.
func (p *processor) quarantine(id string, err error) {
	p.log.Error("embedded: an instance is quarantined: a row of it is corrupt; the other instances keep running",
		"instance", id, "err", err, "store", p.e.name())
	if qerr := p.st.Quarantine(p.ctx, id, err.Error()); qerr != nil {
		p.log.Error("embedded: quarantining an instance", "instance", id, "err", qerr)
	}
}

// errNotHosted: the instance's orchestrator is not registered on this
// worker, which leaves it untouched.
var errNotHosted = errors.New("embedded: orchestrator not registered on this worker")

// notHosted is why an instance of an orchestrator the worker does not
// register makes no progress (the same words as the store's Blocked).
func notHosted(name string) string {
	return fmt.Sprintf("orchestrator %q is not registered on the worker", name)
}

// notHosted logs, once per name, that count live instances of name wait
// for a worker that registers it.
func (p *processor) notHosted(name string, count int) {
	if _, seen := p.warnedNames.LoadOrStore(name, true); seen {
		return
	}
	p.log.Warn("embedded: instances of an orchestrator this worker does not register are left untouched",
		"orchestrator", name, "instances", count, "registered", p.reg.OrchestratorNames(), "store", p.e.name())
}

// load returns the live instance, from the cache or rebuilt from history;
// nil if it does not exist or has ended.
func (p *processor) load(id string) (*live, error) {
	if l := p.cache.get(id); l != nil {
		return l, nil
	}
	l, _, err := p.loadWithPending(id)
	return l, err
}

// loadWithPending rebuilds an instance from history and also returns its
// activities that have no result yet.
func (p *processor) loadWithPending(id string) (*live, []task, error) {
	rec, err := p.st.Instance(p.ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if store.Terminal(rec.Status) {
		return nil, nil, nil
	}
	def, ok := p.reg.Orchestrator(rec.Name)
	if !ok {
		p.notHosted(rec.Name, 1)
		return nil, nil, fmt.Errorf("%w: %q", errNotHosted, rec.Name)
	}
	hist, err := p.st.History(p.ctx, id)
	if err != nil {
		return nil, nil, err
	}
	x := replay.New(core.DefinitionOf(def), p.ropts)
	if err := x.Replay(hist); err != nil {
		p.log.Error("embedded: replaying history failed; the orchestration fails", "instance", id, "err", err)
	}
	l := &live{id: id, x: x, generation: rec.Generation, status: rec.Status, parentID: rec.ParentID, parentTask: rec.ParentTaskID, flushed: p.e.clock.Now()}
	scheduled := map[int64]int{}
	for i, e := range hist {
		switch e.Type {
		case replay.ActivityScheduled:
			scheduled[e.TaskID] = i
			l.total++
		case replay.ActivityCompleted, replay.ActivityFailed:
			delete(scheduled, e.TaskID)
			l.done++
		case replay.SubOrchestrationScheduled:
			l.children++
		}
	}
	var rows map[int64]store.Attempt
	if len(scheduled) > 0 {
		if rows, err = p.st.Attempts(p.ctx, id); err != nil {
			return nil, nil, err
		}
	}
	for task := range rows {
		if l.attempts == nil {
			l.attempts = map[int64]bool{}
		}
		l.attempts[task] = true
	}
	canceledUpTo := int64(-1) // tasks scheduled before a termination request
	for _, e := range hist {
		switch {
		case e.Type == replay.ActivityScheduled:
			l.maxTask = max(l.maxTask, e.TaskID)
		case e.Type == replay.TerminationRequested && canceledUpTo < 0:
			canceledUpTo = l.maxTask
		}
	}
	pending := make([]task, 0, len(scheduled))
	now := p.e.clock.Now()
	for _, i := range scheduled {
		a, ok := rows[hist[i].TaskID]
		t := recoveredTask(task{instanceID: id, generation: rec.Generation, runID: l.x.Info().RunID, ev: hist[i]}, a, ok, now)
		t.ev.Trace = l.x.Trace() // the run's, for its attempt spans (see replay.TraceContext)
		t.canceled = hist[i].TaskID <= canceledUpTo
		pending = append(pending, t)
	}
	slices.SortFunc(pending, func(a, b task) int { return cmp.Compare(a.ev.TaskID, b.ev.TaskID) })
	p.cache.put(l)
	return l, pending, nil
}

// recoveredTask is the next attempt of task t, whose retry state is a
// (when found), as the worker starting at now finds it: an activity with
// a retry policy resumes where the store says (an attempt waiting for its
// due time, or one that was interrupted and counts); one without runs
// again as the next attempt, the one before recorded as interrupted.
func recoveredTask(t task, a store.Attempt, found bool, now time.Time) task {
	if found {
		t.log = &retryLog{dueAt: a.DueAt, retried: a.Retried}
	}
	switch {
	case t.policy() == nil:
		t.attempt = max(a.Attempt, 1)
		var started time.Time
		if found && a.Started {
			started = a.StartedAt
		}
		t = t.retry(core.InterruptedFailure(t.ev.Name, t.attempt), started, now, now)
		t.visibleAt = time.Time{}
	case !found:
		t.attempt = 1
	case !a.Started:
		t.attempt, t.visibleAt = a.Attempt, a.DueAt
	default:
		t.attempt, t.interrupted = a.Attempt, true
		t.log.startedAt = a.StartedAt
	}
	return t
}
