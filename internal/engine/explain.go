package engine

import (
	"context"
	"fmt"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

var _ client.Explainer = (*Engine)(nil)

// noteEventWaits records, after a step of l, the waits for external
// events its code is blocked in (none once the run ended): history does
// not record them, the live instance does.
func (p *processor) noteEventWaits(l *live, done bool) {
	var waits []replay.EventWait
	if !done {
		waits = l.x.EventWaits()
	}
	if len(waits) == 0 {
		p.e.eventWaits.Delete(l.id)
		return
	}
	p.e.eventWaits.Store(l.id, waits)
}

// ExplainWaits implements client.Explainer. The run's pending timers and
// sub-orchestrations are read from its history (created, not fired or
// ended); its waits for external events, which history does not record,
// from the live instance, as this process's worker last stepped it (from
// another process they are not known: the wait is WaitUnknown when
// nothing else is pending). Whether a worker runs at all is the worker
// lock's answer (see store.WorkerProber).
func (e *Engine) ExplainWaits(ctx context.Context, id string) ([]client.Wait, error) {
	in, err := e.instance(ctx, id)
	if err != nil {
		return nil, err
	}
	if store.Terminal(in.Status) {
		return nil, nil
	}
	var out []client.Wait
	running, here, where, err := e.workerRunning()
	if err != nil {
		return nil, fmt.Errorf("embedded: explain %q: %w", id, err)
	}
	if !running {
		out = append(out, client.Wait{Kind: client.WaitWorker, Name: where})
	}
	if in.Blocked != "" && in.Blocked == notHosted(in.Name) {
		out = append(out, client.Wait{Kind: client.WaitUnknownName, Name: in.Name})
	}
	hist, err := e.store.History(ctx, id)
	if err != nil {
		return nil, err
	}
	code := pendingWaits(hist)
	known := false
	if here || !running {
		// This process's worker runs, or no worker does: the one of
		// this process was the last to step the instance, if it stepped
		// it (a worker of another process that ran in between is
		// not seen).
		var v any
		if v, known = e.eventWaits.Load(id); known {
			for _, w := range v.([]replay.EventWait) {
				code = append(code, client.Wait{Kind: client.WaitEvent, Name: w.Name, Since: w.Since})
			}
		}
	}
	if !known && len(code) == 0 && in.Status != store.StatusPending && !hasActivityPending(hist) {
		code = append(code, client.Wait{Kind: client.WaitUnknown,
			Reason: "probably an external event: which one only the worker's process can tell"})
	}
	return append(out, code...), nil
}

// pendingWaits are the run's timers not fired and sub-orchestrations not
// ended, in history order.
func pendingWaits(hist []replay.Event) []client.Wait {
	ended := map[int64]bool{}
	for i := range hist {
		switch hist[i].Type {
		case replay.TimerFired, replay.SubOrchestrationCompleted, replay.SubOrchestrationFailed:
			ended[hist[i].TaskID] = true
		}
	}
	var out []client.Wait
	for i := range hist {
		ev := &hist[i]
		if ended[ev.TaskID] {
			continue
		}
		switch ev.Type {
		case replay.TimerCreated:
			out = append(out, client.Wait{Kind: client.WaitTimer, TaskID: ev.TaskID, Since: ev.Time, Until: ev.FireAt})
		case replay.SubOrchestrationScheduled:
			out = append(out, client.Wait{Kind: client.WaitSubOrchestration, TaskID: ev.TaskID, Name: ev.Name,
				InstanceID: ev.InstanceID, Since: ev.Time})
		}
	}
	return out
}

// hasActivityPending reports whether an activity call of the run has no
// result yet (ActivityAttempts explains it).
func hasActivityPending(hist []replay.Event) bool {
	n := 0
	for i := range hist {
		switch hist[i].Type {
		case replay.ActivityScheduled:
			n++
		case replay.ActivityCompleted, replay.ActivityFailed:
			n--
		}
	}
	return n > 0
}

// workerRunning reports whether a worker runs on the engine's store, in
// this process (here) or another, and names the store.
func (e *Engine) workerRunning() (running, here bool, where string, err error) {
	e.mu.Lock()
	p := e.proc
	e.mu.Unlock()
	if p != nil {
		return true, true, "", nil
	}
	where = "database " + e.name()
	prober, ok := e.store.(store.WorkerProber)
	if !ok {
		return true, false, "", nil // cannot tell: assume one runs
	}
	running, err = prober.WorkerRunning()
	return running, false, where, err
}
