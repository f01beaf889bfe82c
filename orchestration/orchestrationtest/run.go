package orchestrationtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// ErrStuck is returned by Run when the orchestration waits for something
// that can never happen: no activity, timer or scheduled callback is left.
var ErrStuck = errors.New("orchestrationtest: orchestration is stuck")

type instance struct {
	id         string
	def        orchestration.Definition
	x          *replay.Instance
	history    []replay.Event
	generation int
	inbox      []replay.Event
	done       bool
	terminal   *replay.Event
	parent     *instance
	parentTask int64
	children   []*instance
	status     []byte
}

type task struct {
	in        *instance
	ev        replay.Event
	attempt   int
	notBefore time.Time
}

// Run starts orchestrator o with input in as the root instance, runs it
// to completion on virtual time and returns its result. A failed or
// terminated orchestration returns a *FailureError. After the run, every
// instance's history is replayed from scratch, and the test fails if the
// replay diverges (nondeterministic orchestrator code).
func Run[In, Out any](e *Env, o *orchestration.Orchestrator[In, Out], in In) (Out, error) {
	var zero Out
	e.RegisterOrchestrators(o)
	data, err := codec.Encode(e.opts.codec, e.opts.limits, fmt.Sprintf("input of orchestration %q", o.Name()), in)
	if err != nil {
		return zero, err
	}
	if err := e.runRaw(o.Name(), data); err != nil {
		return zero, err
	}
	t := e.root.terminal
	switch t.Type {
	case replay.OrchestrationCompleted:
		return codec.Decode[Out](e.opts.codec, fmt.Sprintf("output of orchestration %q", o.Name()), t.Payload)
	default:
		return zero, failureError(t)
	}
}

func (e *Env) runRaw(name string, input []byte) error {
	if e.root != nil {
		return errors.New("orchestrationtest: an Env runs one orchestration; create another Env")
	}
	def, ok := e.orchs[name]
	if !ok {
		return fmt.Errorf("orchestrationtest: no orchestrator registered as %q", name)
	}
	e.root = e.newInstance(e.opts.instanceID, def, nil, 0)
	start := replay.Event{Type: replay.OrchestrationStarted, Name: name, InstanceID: e.opts.instanceID, Payload: input}
	e.root.inbox = append([]replay.Event{start}, e.pendingEvents...)
	e.pendingEvents = nil
	return e.loop()
}

func (e *Env) newInstance(id string, def orchestration.Definition, parent *instance, parentTask int64) *instance {
	in := &instance{id: id, def: def, parent: parent, parentTask: parentTask}
	in.x = replay.New(def, e.replayOptions())
	e.insts[id] = in
	e.order = append(e.order, in)
	if parent != nil {
		parent.children = append(parent.children, in)
	}
	return in
}

func (e *Env) replayOptions() replay.Options {
	return replay.Options{Codec: e.opts.codec, Limits: e.opts.limits, DeadlockTimeout: e.opts.deadlock, Logger: e.logger}
}

func (e *Env) loop() error {
	for steps := 0; !e.root.done; steps++ {
		if steps > e.opts.maxSteps {
			return fmt.Errorf("%w: more than %d steps", ErrStuck, e.opts.maxSteps)
		}
		if e.stepInstances() || e.runTasks() {
			continue
		}
		if !e.advanceClock() {
			return fmt.Errorf("%w: %q waits, but no activity, timer or scheduled callback is left (an event that is never raised?)", ErrStuck, e.root.id)
		}
	}
	return nil
}

func (e *Env) stepInstances() bool {
	progressed := false
	for i := 0; i < len(e.order); i++ {
		in := e.order[i]
		if len(in.inbox) == 0 {
			continue
		}
		progressed = true
		if in.done {
			in.inbox = nil
			continue
		}
		e.step(in)
	}
	return progressed
}

func (e *Env) step(in *instance) {
	batch := in.inbox
	in.inbox = nil
	for i := range batch {
		if batch[i].Time.IsZero() {
			batch[i].Time = e.clock
		}
	}
	res := in.x.Apply(batch)
	in.history = append(in.history, res.Events...)
	if res.CustomStatusChanged {
		in.status = res.CustomStatus
	}
	for _, ev := range res.Events {
		switch ev.Type {
		case replay.ActivityScheduled:
			e.tasks = append(e.tasks, &task{in: in, ev: ev, attempt: 1, notBefore: e.clock})
		case replay.TimerCreated:
			id := ev.TaskID
			e.at(ev.FireAt, func() { in.inbox = append(in.inbox, replay.Event{Type: replay.TimerFired, TaskID: id, Time: e.clock}) })
		case replay.SubOrchestrationScheduled:
			e.startChild(in, ev)
		case replay.TerminationRequested:
			e.cancelTasks(in)
		case replay.OrchestrationCompleted, replay.OrchestrationFailed, replay.OrchestrationTerminated:
			e.finish(in, ev)
		case replay.OrchestrationContinuedAsNew:
			e.continueAsNew(in, ev, res.Unapplied)
		}
	}
}

func (e *Env) startChild(parent *instance, ev replay.Event) {
	def, ok := e.orchs[ev.Name]
	if !ok || e.insts[ev.InstanceID] != nil {
		msg := fmt.Sprintf("no orchestrator registered as %q", ev.Name)
		typ := core.FailureOrchestratorNotFound
		if ok {
			msg, typ = fmt.Sprintf("instance %q already exists", ev.InstanceID), core.FailureError
		}
		parent.inbox = append(parent.inbox, replay.Event{Type: replay.SubOrchestrationFailed, TaskID: ev.TaskID,
			Failure: &core.Failure{Type: typ, Message: msg, NonRetryable: true}})
		return
	}
	child := e.newInstance(ev.InstanceID, def, parent, ev.TaskID)
	child.inbox = append(child.inbox, replay.Event{Type: replay.OrchestrationStarted, Name: ev.Name,
		InstanceID: ev.InstanceID, ParentID: parent.id, ParentTaskID: ev.TaskID, Payload: ev.Payload})
	if parent.x.Done() || parent.done {
		e.terminate(child.id, "parent ended")
	}
}

func (e *Env) finish(in *instance, ev replay.Event) {
	in.done = true
	in.terminal = &in.history[len(in.history)-1]
	e.replayCheck(in)
	in.x.Close()
	for _, c := range in.children {
		if !c.done {
			e.terminate(c.id, "parent ended")
		}
	}
	if p := in.parent; p != nil && !p.done {
		reply := replay.Event{TaskID: in.parentTask}
		switch ev.Type {
		case replay.OrchestrationCompleted:
			reply.Type, reply.Payload = replay.SubOrchestrationCompleted, ev.Payload
		case replay.OrchestrationTerminated:
			reply.Type = replay.SubOrchestrationFailed
			reply.Failure = &core.Failure{Type: core.FailureCanceled, Message: "sub-orchestration terminated: " + ev.Name}
		default:
			reply.Type, reply.Failure = replay.SubOrchestrationFailed, ev.Failure
		}
		p.inbox = append(p.inbox, reply)
	}
}

func (e *Env) continueAsNew(in *instance, ev replay.Event, unapplied []replay.Event) {
	e.replayCheck(in)
	in.x.Close()
	info := in.x.Info()
	info.Generation = in.generation
	start := replay.NextRunStart(info, in.parentTask, &ev, unapplied, e.clock)
	in.generation++
	in.x = replay.New(in.def, e.replayOptions())
	in.history = nil
	in.inbox = append([]replay.Event{start}, in.inbox...)
}

func (e *Env) terminate(id, reason string) {
	in := e.insts[id]
	if in == nil || in.done {
		return
	}
	in.inbox = append(in.inbox, replay.Event{Type: replay.TerminationRequested, Name: reason})
	for _, c := range in.children {
		e.terminate(c.id, reason)
	}
}

// cancelTasks stops the work of a terminated run, as the engine does: its
// queued activity attempts never run and end as Canceled failures;
// clean-up it schedules from now on runs.
func (e *Env) cancelTasks(in *instance) {
	kept := e.tasks[:0]
	for _, t := range e.tasks {
		if t.in != in {
			kept = append(kept, t)
			continue
		}
		in.inbox = append(in.inbox, replay.Event{Type: replay.ActivityFailed, TaskID: t.ev.TaskID, Attempt: t.attempt,
			Failure: core.ActivityCanceled(t.ev.Name, t.attempt)})
	}
	clear(e.tasks[len(kept):])
	e.tasks = kept
}

// runTasks runs every activity task that is due, in scheduling order.
func (e *Env) runTasks() bool {
	ran := false
	rest := e.tasks[:0:0]
	due := e.tasks
	e.tasks = nil
	for _, t := range due {
		if t.notBefore.After(e.clock) {
			rest = append(rest, t)
			continue
		}
		ran = true
		e.runTask(t)
	}
	e.tasks = append(rest, e.tasks...)
	return ran
}

func (e *Env) runTask(t *task) {
	ev := t.ev
	info := activity.Info{ActivityName: ev.Name, InstanceID: t.in.id, TaskID: ev.TaskID, Attempt: t.attempt,
		IdempotencyKey: activity.IdempotencyKey(t.in.id, ev.TaskID, t.attempt)}
	ctx := activity.WithInfo(context.Background(), info)
	var opts core.ActivityOptions
	if ev.Options != nil {
		opts = *ev.Options
	}
	if opts.StartToClose > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.StartToClose)
		defer cancel()
	}
	var data []byte
	var err error
	if m, ok := e.mocks[ev.Name]; ok {
		data, err = m.run(ctx, e.opts.codec, e.opts.limits, ev.Payload)
	} else if a, ok := e.acts[ev.Name]; ok {
		data, err = a.Execute(ctx, e.opts.codec, e.opts.limits, ev.Payload)
	} else {
		err = activity.NewNonRetryableError(core.FailureActivityNotFound, fmt.Sprintf("no activity registered as %q", ev.Name))
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		f := core.FailureFrom(err)
		if errors.Is(err, context.DeadlineExceeded) {
			f = core.StartToCloseTimeout(ev.Name, t.attempt, opts.StartToClose)
		}
		if opts.Retry.ShouldRetry(t.attempt, f) {
			e.tasks = append(e.tasks, &task{in: t.in, ev: ev, attempt: t.attempt + 1, notBefore: e.clock.Add(opts.Retry.Delay(t.attempt + 1))})
			return
		}
		t.in.inbox = append(t.in.inbox, replay.Event{Type: replay.ActivityFailed, TaskID: ev.TaskID, Failure: f, Attempt: t.attempt})
		return
	}
	t.in.inbox = append(t.in.inbox, replay.Event{Type: replay.ActivityCompleted, TaskID: ev.TaskID, Payload: data, Attempt: t.attempt})
}

// advanceClock moves virtual time to the next timer, callback or retry and
// fires what is due. It reports false when nothing is left.
func (e *Env) advanceClock() bool {
	var next time.Time
	for _, t := range e.timed {
		if next.IsZero() || t.at.Before(next) {
			next = t.at
		}
	}
	for _, t := range e.tasks {
		if next.IsZero() || t.notBefore.Before(next) {
			next = t.notBefore
		}
	}
	if next.IsZero() {
		return false
	}
	if next.After(e.clock) {
		e.clock = next
	}
	slices.SortStableFunc(e.timed, func(a, b *timed) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	for len(e.timed) > 0 && !e.timed[0].at.After(e.clock) {
		t := e.timed[0]
		e.timed = e.timed[1:]
		t.fn()
	}
	return true
}

// Close releases the environment's instances. New(t) calls it in
// t.Cleanup; call it when New got nil.
func (e *Env) Close() {
	for _, in := range e.order {
		in.x.Close()
	}
}
