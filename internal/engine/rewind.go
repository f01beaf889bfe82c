package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

// Rewind implements client.Client: it restarts a Failed or Terminated
// instance from its failed step (see replay.PlanRewind), in one store
// transaction:
//
//   - the current run's history is cut at its first failure (an activity
//     or sub-orchestration failure, a termination request, or the step
//     whose code failed) and the run gets a new run id, so the attempts
//     that run again have idempotency keys of their own;
//   - the activities scheduled before the cut without a result run again,
//     from attempt 1 (a fresh retry budget); those that succeeded are
//     results in history and are not called again, nor are those whose
//     results came after the run ended (parked in its inbox: see park);
//   - results recorded after the cut for steps scheduled before it, and
//     external events, are delivered again, live, by an
//     OrchestrationRewound event (recorded in history);
//   - a failed or terminated sub-orchestration is rewound too, a
//     completed one's result is kept, and the sub-orchestrations started
//     after the cut are purged (the code starts them again if it still
//     calls them);
//   - timers created before the cut that had not fired fire again at
//     their time.
//
// The worker replays the kept history with the code registered now (a
// fixed bug), which must agree with it ([CB1100] otherwise, as for any
// replay).
func (e *Engine) Rewind(ctx context.Context, id, reason string) error {
	if reason == "" {
		reason = "rewound by client"
	}
	if err := validText("rewind reason", reason); err != nil {
		return err
	}
	rw, ok := e.store.(store.Rewinder)
	if !ok {
		return fmt.Errorf("embedded: rewind: the store cannot rewind: %w", errors.ErrUnsupported)
	}
	in, err := e.instance(ctx, id)
	if err != nil {
		return err
	}
	r := rewind{e: e, rw: rw, reason: reason, seen: map[string]bool{}}
	if err := r.plan(ctx, in); err != nil {
		return err
	}
	if err := rw.Rewind(ctx, r.rewrites, r.purge); err != nil {
		if errors.Is(err, store.ErrInstanceChanged) || errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %q: %w", client.ErrNotRewindable, id, err)
		}
		return fmt.Errorf("embedded: rewind of %q: %w", id, err)
	}
	for _, w := range r.rewrites {
		_ = e.statusChanged(ctx, w.InstanceID, store.StatusPending, false)
	}
	e.log.Info("embedded: instance rewound", "instance", id, "reason", reason, "instances", len(r.rewrites), "purged", len(r.purge))
	e.wake()
	return nil
}

// rewind collects the rewrites of one Rewind: the instance's and its
// failed descendants'.
type rewind struct {
	e        *Engine
	rw       store.Rewinder
	reason   string
	rewrites []store.Rewrite
	purge    []string
	seen     map[string]bool
}

func notRewindable(in *store.Instance, why string) error {
	return fmt.Errorf("%w: %q is %s%s", client.ErrNotRewindable, in.ID, in.Status, why)
}

func (r *rewind) plan(ctx context.Context, in *store.Instance) error {
	if r.seen[in.ID] {
		return nil
	}
	r.seen[in.ID] = true
	switch in.Status {
	case store.StatusFailed, store.StatusTerminated:
	case store.StatusCompleted:
		return notRewindable(in, ": nothing failed (start it again instead)")
	default:
		return notRewindable(in, ": only a Failed or Terminated instance can be rewound")
	}
	hist, err := r.e.store.History(ctx, in.ID)
	if err != nil {
		return err
	}
	late, err := r.rw.Parked(ctx, in.ID)
	if err != nil {
		return err
	}
	plan, err := replay.PlanRewind(hist, late, r.e.opts.RunIDs())
	if err != nil {
		return fmt.Errorf("%w: %q: %w", client.ErrNotRewindable, in.ID, err)
	}
	now := r.e.clock.Now().UTC()
	w := store.Rewrite{InstanceID: in.ID, Generation: in.Generation, Status: in.Status, History: plan.History,
		Progress: store.Progress{Done: plan.Done, Total: plan.Total}}
	for _, c := range plan.Children {
		child, err := r.e.store.Instance(ctx, c.InstanceID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			plan.Carried = append(plan.Carried, replay.Event{Type: replay.SubOrchestrationFailed, TaskID: c.TaskID,
				Failure: &core.Failure{Type: core.FailureError, Message: "sub-orchestration " + c.InstanceID + " was purged", NonRetryable: true}})
		case err != nil:
			return err
		case child.Status == store.StatusCompleted:
			// Its result came after the parent ended, and was dropped.
			plan.Carried = append(plan.Carried, replay.Event{Type: replay.SubOrchestrationCompleted, TaskID: c.TaskID, Payload: child.Output})
		case child.Status == store.StatusFailed || child.Status == store.StatusTerminated:
			if err := r.plan(ctx, child); err != nil {
				return err
			}
		default:
			return notRewindable(in, fmt.Sprintf(": its sub-orchestration %q is still %s; try again once it ended", child.ID, child.Status))
		}
	}
	for _, id := range plan.Abandoned {
		if err := r.abandon(ctx, in, id); err != nil {
			return err
		}
	}
	ev := plan.Rewound(r.reason)
	if plan.Restart {
		// The run starts again (its code failed at once), now; the
		// rewind is recorded after its start.
		start := plan.Carried[0]
		start.Time = now
		w.Messages = append(w.Messages, store.Message{VisibleAt: now, Event: start})
		ev.Carried = nil
	}
	ev.Time, ev.RunID = now, plan.RunID
	w.Messages = append(w.Messages, store.Message{VisibleAt: now, Event: ev})
	for _, t := range plan.Timers {
		w.Messages = append(w.Messages, store.Message{VisibleAt: t.FireAt,
			Event: replay.Event{Type: replay.TimerFired, TaskID: t.TaskID, Generation: in.Generation, Time: t.FireAt}})
	}
	r.rewrites = append(r.rewrites, w)
	return nil
}

// abandon purges a sub-orchestration started after the cut, with its
// descendants; all must have ended.
func (r *rewind) abandon(ctx context.Context, parent *store.Instance, id string) error {
	child, err := r.e.store.Instance(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !store.Terminal(child.Status) {
		return notRewindable(parent, fmt.Sprintf(": its sub-orchestration %q is still %s; try again once it ended", id, child.Status))
	}
	r.purge = append(r.purge, id)
	grand, err := r.e.store.List(ctx, store.Filter{ParentID: id})
	if err != nil {
		return err
	}
	for _, g := range grand {
		if err := r.abandon(ctx, parent, g.ID); err != nil {
			return err
		}
	}
	return nil
}

// stale reports whether t is of an earlier run of l than the current one
// (continue-as-new, or a rewind: a new run id).
func (t *task) stale(l *live) bool {
	return t.generation != l.generation || t.runID != l.x.Info().RunID
}

// rewinds reports whether the group holds a rewind's restart.
func (g *group) rewinds() bool {
	for i := range g.msgs {
		if g.msgs[i].Event.Type == replay.OrchestrationRewound {
			return true
		}
	}
	return false
}

// rewound loads a rewound instance from its new history (dropping what
// the cache holds of it) and, once the step is committed, runs again its
// activities that have no result: from attempt 1, under the new run id.
// It does so once per run: the restart is read again while the instance
// is suspended, and the worker's recovery may have submitted them.
func (b *batch) rewound(g *group) {
	p := b.p
	var runID string
	resolved := map[int64]bool{}
	for i := range g.msgs {
		ev := &g.msgs[i].Event
		switch ev.Type {
		case replay.OrchestrationRewound:
			runID = ev.RunID
			for j := range ev.Carried {
				resolved[ev.Carried[j].TaskID] = true
			}
		case replay.ActivityCompleted, replay.ActivityFailed:
			resolved[ev.TaskID] = true
		}
	}
	if p.submitted[g.id] == runID {
		return
	}
	if l := p.cache.get(g.id); l != nil && l.pins == 0 && l.x.Info().RunID != runID {
		p.cache.remove(g.id)
	}
	_, pending, err := p.loadWithPending(g.id)
	if err != nil {
		return // the step below sees the error again
	}
	var run []task
	for _, t := range pending {
		if resolved[t.ev.TaskID] {
			continue
		}
		t.attempt, t.visibleAt, t.interrupted, t.canceled = 1, time.Time{}, false, false
		t.marked = t.policy() == nil
		run = append(run, t)
	}
	p.submitted[g.id] = runID
	b.after = append(b.after, func(ok bool) {
		if !ok {
			delete(p.submitted, g.id)
			return
		}
		p.runner.submit(run...)
	})
}

// park keeps in the inbox, never delivered (store.Parked), the results of
// activities that came after their run failed or was terminated (status,
// or the stored one when ""): a rewind carries them to the rewound run
// instead of running the activities again. A purge or a new run of the
// id deletes them.
func (b *batch) park(g *group, s *store.Step, status string) {
	var late []replay.Event
	for _, c := range g.comps {
		if c.attempt == nil && c.event.Type == replay.ActivityCompleted {
			ev := c.event
			ev.RunID = c.task.runID
			late = append(late, ev)
		}
	}
	if len(late) == 0 {
		return
	}
	if _, ok := b.p.st.(store.Rewinder); !ok {
		return
	}
	if status == "" {
		in, err := b.p.st.Instance(b.p.ctx, g.id)
		if err != nil {
			return
		}
		status = in.Status
	}
	if status != store.StatusFailed && status != store.StatusTerminated {
		return
	}
	for _, ev := range late {
		s.NewMessages = append(s.NewMessages, store.Message{InstanceID: g.id, VisibleAt: store.Parked, Event: ev})
	}
}

// parkUnapplied parks the activity results that came in the step that
// ended the run of l, after its end (see park).
func (b *batch) parkUnapplied(l *live, s *store.Step, unapplied []replay.Event) {
	if l.status != store.StatusFailed && l.status != store.StatusTerminated {
		return
	}
	if _, ok := b.p.st.(store.Rewinder); !ok {
		return
	}
	for _, ev := range unapplied {
		if ev.Type == replay.ActivityCompleted {
			ev.RunID = l.x.Info().RunID
			s.NewMessages = append(s.NewMessages, store.Message{InstanceID: l.id, VisibleAt: store.Parked, Event: ev})
		}
	}
}
