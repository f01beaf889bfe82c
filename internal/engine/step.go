package engine

import (
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/billing"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

// batch turns the work of several instances into store steps, and
// collects what to do once they are committed.
type batch struct {
	p         *processor
	now       time.Time
	steps     []store.Step
	tasks     []task  // to run after the commit
	flushed   []*live // instances whose progress this batch writes
	pinned    []*live // instances with a step in this batch
	creates   map[string]store.Instance
	replaces  map[string]bool
	starts    []*startRequest // answered after the commit
	finished  []string        // instances that ended (watchers)
	evict     []string        // instances to drop from the cache
	pokeSelf  bool            // new inbox messages are visible now
	nextTimer time.Time
	after     []func(committed bool) // once the commit is done
}

func (b *batch) step(g *group) {
	p := b.p
	s := store.Step{InstanceID: g.id}
	for _, m := range g.msgs {
		s.ConsumedMessages = append(s.ConsumedMessages, m.ID)
	}
	if in, ok := b.creates[g.id]; ok {
		s.NewInstances = append(s.NewInstances, in)
		s.Purge = b.replaces[g.id]
	}
	if g.rewinds() {
		b.rewound(g)
	}
	l, err := p.load(g.id)
	if errors.Is(err, errNotHosted) {
		refuseMarks(g.comps) // left untouched: its messages stay in the inbox
		return
	}
	if errors.Is(err, store.ErrCorrupt) {
		p.quarantine(g.id, err)
		refuseMarks(g.comps) // its messages stay in the inbox, unread
		return
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		p.log.Error("embedded: loading instance", "instance", g.id, "err", err)
		refuseMarks(g.comps)
		p.resend(g.comps) // messages stay in the inbox; results come back
		return
	}
	// The attempts whose outcomes reach the step were billed, whatever
	// becomes of their results (dropped with an ended run, or kept in the
	// inbox while suspended): their usage is recorded with it.
	if !s.Purge { // else the results are an old run's, whose counters go
		s.Usage = g.usage()
	}
	if l == nil { // unknown or ended: the work is dropped
		if !s.Purge {
			b.park(g, &s, "")
		}
		b.dropped(g)
		refuseMarks(g.comps)
		p.runner.release(g.id)
		b.steps = append(b.steps, s)
		return
	}
	if l.x.Finished() || (!l.x.Started() && !g.starts()) {
		refuseMarks(g.comps)
		late := store.Step{InstanceID: g.id, Usage: s.Usage}
		if l.x.Finished() {
			b.park(g, &late, l.status)
		}
		if !late.Usage.IsZero() || len(late.NewMessages) > 0 {
			b.steps = append(b.steps, late)
		}
		// The run ended (or continued as new) in a batch not committed
		// yet, or the instance's start is not visible yet (a delayed
		// start, or the next run's start after continue-as-new): its
		// messages wait in the inbox for the run that takes them, in
		// their order; completions of an ended run are stale.
		b.pokeSelf = b.pokeSelf || l.x.Finished()
		return
	}
	if l.status == store.StatusSuspended {
		// A client of another process may have resumed it: its inbox is
		// read again then, and that is the only sign.
		if in, err := p.st.Instance(p.ctx, g.id); err == nil && in.Status != store.StatusSuspended && !store.Terminal(in.Status) {
			l.status = in.Status
		}
	}
	if l.status == store.StatusSuspended {
		// Work that arrives while suspended waits in the inbox.
		b.retryState(l, &s, g.comps, false)
		s.ConsumedMessages = nil
		for _, c := range g.comps {
			if c.attempt == nil {
				s.NewMessages = append(s.NewMessages, store.Message{InstanceID: g.id, Event: c.event, VisibleAt: b.now})
			}
		}
		b.steps = append(b.steps, s)
		return
	}
	res := l.x.Apply(g.events(l, b.now))
	p.beginRun(l) // before its events: for its attempts and children
	b.updatesOfStep(g.id, &res)
	p.noteEventWaits(l, res.Done)
	b.retryState(l, &s, g.comps, res.Done)
	l.pins++
	b.pinned = append(b.pinned, l)
	s.Events = res.Events
	u := &store.Update{}
	if l.status == store.StatusPending {
		u.Status, l.status = store.StatusRunning, store.StatusRunning
	}
	if res.CustomStatusChanged {
		u.CustomStatus = res.CustomStatus
		if u.CustomStatus == nil {
			u.CustomStatus = []byte{}
		}
	}
	s.Update = u
	terminated := false
	for i := range res.Events {
		terminated = terminated || res.Events[i].Type == replay.TerminationRequested
		b.interpret(l, &s, u, &res.Events[i], res.Unapplied)
	}
	if res.Done {
		b.parkUnapplied(l, &s, res.Unapplied)
	}
	if !terminated && g.requestsTermination() {
		// A termination request the run did not record (a repeated one,
		// or one carried to the next run): no attempt waits for it.
		p.runner.unhold(l.id)
	}
	// Progress is written with any other change, else at most every
	// progressEvery; it is recomputed from history after a restart.
	if u.Status != "" || u.CustomStatus != nil || b.now.Sub(l.flushed) >= progressEvery {
		u.Progress = &store.Progress{Done: l.done, Total: l.total}
		b.flushed = append(b.flushed, l)
	}
	b.steps = append(b.steps, s)
}

// usage is what the attempts whose outcomes the group holds were billed.
func (g *group) usage() billing.Usage {
	var u billing.Usage
	for i := range g.comps {
		u = u.Add(g.comps[i].usage)
	}
	return u
}

// events are the group's incoming events for the current run of l, in
// arrival order after the run's start; those of earlier runs are left out.
func (g *group) events(l *live, now time.Time) []replay.Event {
	events := make([]replay.Event, 0, len(g.order)+1)
	if g.start != nil {
		events = append(events, *g.start)
	}
	for _, m := range g.msgs {
		if m.Event.Type == replay.OrchestrationStarted {
			// A run's start is its first event, whatever was raised
			// before it became visible.
			events = append(events, m.Event)
		}
	}
	for _, o := range g.order {
		var ev replay.Event
		if o >= 0 {
			ev = g.msgs[o].Event
			if ev.Type == replay.OrchestrationStarted {
				continue // applied first
			}
			if ev.Type == replay.TimerFired && ev.Generation != l.generation {
				continue // a timer of an earlier run
			}
			if ev.Type == replay.TimerFired && now.After(ev.Time) {
				ev.Time = now // it fired late (no worker ran when it fell due)
			}
		} else {
			c := g.comps[-o-1]
			if c.attempt != nil || c.task.stale(l) {
				continue // an activity of an earlier run
			}
			ev = c.event
		}
		if ev.Time.IsZero() {
			ev.Time = now
		}
		events = append(events, ev)
	}
	return events
}

// retryState writes the retry state among comps (start marks, retries
// with their due time) for the current run of l, and acts on it once
// committed.
func (b *batch) retryState(l *live, s *store.Step, comps []completion, ended bool) {
	for _, c := range comps {
		switch {
		case c.attempt == nil:
			continue
		case c.task.stale(l) || ended:
			refuseMarks([]completion{c}) // a stale run's
			continue
		}
		s.Attempts = append(s.Attempts, *c.attempt)
		if l.attempts == nil {
			l.attempts = map[int64]bool{}
		}
		l.attempts[c.attempt.TaskID] = true
		if c.marked != nil {
			b.after = append(b.after, func(ok bool) { c.marked <- ok })
			continue
		}
		t := c.task
		b.after = append(b.after, func(ok bool) {
			if ok {
				b.p.runner.submit(t)
			}
		})
	}
}

// refuseMarks tells the runner not to run attempts waiting for a start mark.
func refuseMarks(comps []completion) {
	for _, c := range comps {
		if c.marked != nil {
			c.marked <- false
		}
	}
}

// requestsTermination reports whether the group consumes a termination
// request.
func (g *group) requestsTermination() bool {
	for i := range g.msgs {
		e := &g.msgs[i].Event
		if e.Type == replay.TerminationRequested {
			return true
		}
		for j := range e.Carried {
			if e.Carried[j].Type == replay.TerminationRequested {
				return true
			}
		}
	}
	return false
}

// starts reports whether the group holds the start of a run.
func (g *group) starts() bool {
	if g.start != nil {
		return true
	}
	for i := range g.msgs {
		if g.msgs[i].Event.Type == replay.OrchestrationStarted {
			return true
		}
	}
	return false
}

// dropped logs the external events that came for an instance that does
// not exist or has ended: clients refuse those, so these raced with the
// end of the run.
func (b *batch) dropped(g *group) {
	b.droppedUpdates(g)
	for _, m := range g.msgs {
		if m.Event.Type == replay.EventRaised {
			b.p.log.Warn("embedded: an event arrived after its instance ended; it is dropped",
				"instance", g.id, "event", m.Event.Name)
		}
	}
}

// interpret acts on one new history event of instance l.
func (b *batch) interpret(l *live, s *store.Step, u *store.Update, ev *replay.Event, unapplied []replay.Event) {
	switch ev.Type {
	case replay.OrchestrationStarted:
		b.runStarted(l)
	case replay.ActivityScheduled:
		t := task{instanceID: l.id, generation: l.generation, runID: l.x.Info().RunID, ev: *ev, attempt: 1}
		t.ev.Trace = l.x.Trace()     // the run's, for its attempt spans (see replay.TraceContext)
		t.marked = t.policy() == nil // a retry policy counts attempts durably
		b.tasks = append(b.tasks, t)
		l.total++
		l.maxTask = max(l.maxTask, ev.TaskID)
	case replay.ActivityCompleted, replay.ActivityFailed:
		l.done++
		if l.attempts[ev.TaskID] {
			delete(l.attempts, ev.TaskID)
			s.ClearAttempts = append(s.ClearAttempts, ev.TaskID)
		}
	case replay.TimerCreated:
		s.NewMessages = append(s.NewMessages, store.Message{InstanceID: l.id, VisibleAt: ev.FireAt,
			Event: replay.Event{Type: replay.TimerFired, TaskID: ev.TaskID, Generation: l.generation, Time: ev.FireAt}})
		if b.nextTimer.IsZero() || ev.FireAt.Before(b.nextTimer) {
			b.nextTimer = ev.FireAt
		}
	case replay.SubOrchestrationScheduled:
		l.children++
		b.startChild(l, s, ev)
	case replay.TerminationRequested:
		// What the run scheduled so far stops; clean-up it schedules from
		// now on (under WithoutCancel) runs.
		b.p.runner.cancelInstance(l.id, l.generation, l.maxTask)
		b.terminateChildren(l, s, "parent terminated: "+ev.Name)
	case replay.OrchestrationCompleted, replay.OrchestrationFailed, replay.OrchestrationTerminated:
		b.end(l, s, u, ev)
		b.runEnded(l, ev, u.Failure)
	case replay.UpdateCompleted:
		b.updateCompleted(l.id, ev)
	case replay.OrchestrationContinuedAsNew:
		b.runEnded(l, ev, nil)
		b.continueAsNew(l, s, u, ev, unapplied)
	}
}

func (b *batch) startChild(l *live, s *store.Step, ev *replay.Event) {
	if _, err := b.p.st.Instance(b.p.ctx, ev.InstanceID); err == nil || b.creating(ev.InstanceID) {
		s.NewMessages = append(s.NewMessages, store.Message{InstanceID: l.id, VisibleAt: b.now, Event: replay.Event{
			Type: replay.SubOrchestrationFailed, TaskID: ev.TaskID, Time: b.now,
			Failure: &core.Failure{Type: core.FailureError, Message: "sub-orchestration instance " + ev.InstanceID + " already exists", NonRetryable: true}}})
		b.pokeSelf = true
		return
	}
	child := store.Instance{ID: ev.InstanceID, Name: ev.Name, Status: store.StatusPending,
		Input: ev.Payload, ParentID: l.id, ParentTaskID: ev.TaskID, CreatedAt: b.now, UpdatedAt: b.now}
	if _, ok := b.p.reg.Orchestrator(ev.Name); !ok {
		// It waits for a worker that hosts it.
		child.Blocked = notHosted(ev.Name)
		b.p.notHosted(ev.Name, 1)
	}
	s.NewInstances = append(s.NewInstances, child)
	s.NewMessages = append(s.NewMessages, store.Message{InstanceID: ev.InstanceID, VisibleAt: b.now, Event: replay.Event{
		Type: replay.OrchestrationStarted, Name: ev.Name, InstanceID: ev.InstanceID, ParentID: l.id,
		ParentTaskID: ev.TaskID, RunID: b.p.e.opts.RunIDs(), Payload: ev.Payload, Time: b.now, Trace: replay.NewTraceContext(b.childParent(l))}})
	b.pokeSelf = true
}

// creating reports whether an instance id is being created in this batch.
func (b *batch) creating(id string) bool {
	for i := range b.steps {
		for _, in := range b.steps[i].NewInstances {
			if in.ID == id {
				return true
			}
		}
	}
	return false
}

func (b *batch) terminateChildren(l *live, s *store.Step, reason string) {
	if l.children == 0 {
		return
	}
	children, err := b.p.st.List(b.p.ctx, store.Filter{ParentID: l.id,
		Statuses: []string{store.StatusPending, store.StatusRunning, store.StatusSuspended}})
	if err != nil {
		b.p.log.Error("embedded: listing sub-orchestrations to terminate", "instance", l.id, "err", err)
		return
	}
	ids := map[string]bool{}
	for _, c := range children {
		ids[c.ID] = true
	}
	// And those created by steps not committed yet (this one included).
	uncommitted := [][]store.Step{{*s}, b.steps}
	for _, pb := range []*pending{b.p.acc, b.p.inCommit} {
		if pb != nil {
			uncommitted = append(uncommitted, pb.steps)
		}
	}
	for _, steps := range uncommitted {
		for i := range steps {
			for _, in := range steps[i].NewInstances {
				if in.ParentID == l.id {
					ids[in.ID] = true
				}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		b.p.runner.hold(id) // its queued attempts wait for its own termination
		s.NewMessages = append(s.NewMessages, store.Message{InstanceID: id, VisibleAt: b.now,
			Event: replay.Event{Type: replay.TerminationRequested, Name: reason, Time: b.now}})
		b.pokeSelf = true
	}
}

func (b *batch) end(l *live, s *store.Step, u *store.Update, ev *replay.Event) {
	switch ev.Type {
	case replay.OrchestrationCompleted:
		u.Status, u.Output = store.StatusCompleted, ev.Payload
	case replay.OrchestrationFailed:
		u.Status, u.Failure = store.StatusFailed, ev.Failure
	case replay.OrchestrationTerminated:
		u.Status, u.Output, u.Failure = store.StatusTerminated, ev.Payload, ev.Failure
		if u.Failure == nil {
			u.Failure = &core.Failure{Type: core.FailureCanceled, Message: "terminated: " + ev.Name}
		}
	}
	u.Completed, s.DropPending = true, true
	l.status = u.Status
	id := l.id
	b.after = append(b.after, func(ok bool) {
		if ok {
			b.p.runner.release(id)
		}
	})
	b.finished = append(b.finished, l.id)
	b.evict = append(b.evict, l.id)
	delete(b.p.submitted, l.id)
	b.terminateChildren(l, s, "parent ended")
	if l.parentID == "" {
		return
	}
	reply := replay.Event{TaskID: l.parentTask, Time: b.now}
	switch ev.Type {
	case replay.OrchestrationCompleted:
		reply.Type, reply.Payload = replay.SubOrchestrationCompleted, ev.Payload
	case replay.OrchestrationTerminated:
		reply.Type, reply.Failure = replay.SubOrchestrationFailed, &core.Failure{Type: core.FailureCanceled, Message: "sub-orchestration terminated: " + ev.Name}
	default:
		reply.Type, reply.Failure = replay.SubOrchestrationFailed, ev.Failure
	}
	s.NewMessages = append(s.NewMessages, store.Message{InstanceID: l.parentID, VisibleAt: b.now, Event: reply})
	b.pokeSelf = true
}

func (b *batch) continueAsNew(l *live, s *store.Step, u *store.Update, ev *replay.Event, unapplied []replay.Event) {
	info := l.x.Info()
	info.Generation = l.generation
	start := replay.NextRunStart(info, b.p.e.opts.RunIDs(), l.parentTask, ev, unapplied, b.now)
	start.Trace = l.x.Trace() // the next run's span has the same parent
	s.Events, s.ResetHistory, s.DropPending = nil, true, true
	u.Generation, u.Input, u.Status = start.Generation, ev.Payload, store.StatusRunning
	l.done, l.total = 0, 0
	s.NewMessages = append(s.NewMessages, store.Message{InstanceID: l.id, VisibleAt: b.now, Event: start})
	b.evict = append(b.evict, l.id)
	b.pokeSelf = true
}

// progressEvery bounds how often a running instance's activity counters
// are written.
const progressEvery = 100 * time.Millisecond
