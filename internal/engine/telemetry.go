package engine

import (
	"context"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/telemetry"
	"github.com/cloudbutton/cloudbutton/worker"
)

// The worker's OpenTelemetry instrumentation (internal/telemetry): off
// unless worker.Options has providers, and then each hook below is one
// flag test on the hot path.

func newTelemetry(opts worker.Options) (*telemetry.T, error) {
	if opts.TracerProvider == nil && opts.MeterProvider == nil {
		return nil, nil
	}
	return telemetry.New("embedded", opts.TracerProvider, opts.MeterProvider, opts.Logger)
}

// runOf describes l's current run.
func runOf(l *live) telemetry.Run {
	info := l.x.Info()
	return telemetry.Run{InstanceID: l.id, Name: info.Name, RunID: info.RunID, ParentInstanceID: info.ParentInstanceID,
		Generation: l.generation, Parent: l.x.Trace().ParentOf()}
}

// beginRun starts the span of l's run if the worker keeps run spans open
// (telemetry.T.Live) and this worker has not yet: at the run's first step
// here (its start, or its first after a worker restart; a failed commit
// redoes a step, which finds it open) and when recovery runs its
// activities again, before they start, with the run's real start.
func (p *processor) beginRun(l *live) {
	if tel := p.tel; tel.Live() && l.x.Info().RunID != "" {
		tel.RunBegan(runOf(l), l.x.StartedAt())
	}
}

// runStarted counts a run that began in this batch, once it is committed.
func (b *batch) runStarted(l *live) {
	tel := b.p.tel
	if tel == nil || !tel.Metrics {
		return
	}
	name := l.x.Info().Name
	b.after = append(b.after, func(ok bool) {
		if ok {
			tel.RunStarted(b.p.ctx, name)
		}
	})
}

// runEnded emits the span of l's run, which ended with ev (and failure f)
// in this batch, once it is committed (a failed commit redoes the step,
// and this).
func (b *batch) runEnded(l *live, ev *replay.Event, f *core.Failure) {
	tel := b.p.tel
	if tel == nil {
		return
	}
	run, start, end := runOf(l), l.x.StartedAt(), ev.Time
	if end.IsZero() {
		end = b.now
	}
	var outcome telemetry.Outcome
	switch ev.Type {
	case replay.OrchestrationCompleted:
		outcome = telemetry.Completed
	case replay.OrchestrationFailed:
		outcome = telemetry.Failed
	case replay.OrchestrationTerminated:
		outcome = telemetry.Terminated
	default:
		outcome = telemetry.ContinuedAsNew
	}
	b.after = append(b.after, func(ok bool) {
		if ok {
			tel.RunEnded(b.p.ctx, run, start, end, outcome, f)
		}
	})
}

// childParent is the traceparent a sub-orchestration of l records: its
// run's span is a child of l's run's span ("" when not tracing).
func (b *batch) childParent(l *live) string {
	tel := b.p.tel
	if tel == nil || !tel.Tracing {
		return ""
	}
	return telemetry.FormatParent(tel.RunParent(runOf(l)))
}

// invoke runs attempt t through the invoker, within its span (a child of
// its run's span, carried by ctx to the activity and the function) when
// tracing.
func (r *runner) invoke(ctx context.Context, t *task, req faas.Request) ([]byte, error) {
	tel := r.p.tel
	if tel == nil {
		return r.invoker.Invoke(ctx, req)
	}
	run := telemetry.Run{InstanceID: t.instanceID, RunID: t.runID, Parent: t.ev.Trace.ParentOf()}
	a := telemetry.Attempt{InstanceID: t.instanceID, RunID: t.runID,
		Activity: req.Activity, TaskID: req.TaskID, Attempt: req.Attempt, IdempotencyKey: req.IdempotencyKey}
	if tel.Tracing {
		a.Parent = tel.RunParent(run)
	}
	return tel.Invoke(ctx, a, func(ctx context.Context) ([]byte, error) { return r.invoker.Invoke(ctx, req) })
}

// pending counts the attempts queued, waiting (retry back-off, or parked
// for a termination) or running: the gauge of pending activities.
func (r *runner) pending() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.queue) + len(r.timers) + r.waitingKeyed()
	for _, ts := range r.parked {
		n += len(ts)
	}
	for _, rs := range r.running {
		n += len(rs)
	}
	return int64(n)
}
