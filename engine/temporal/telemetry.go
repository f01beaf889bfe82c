package temporal

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/telemetry"
)

// Tracing on Temporal (see internal/telemetry): the same run and attempt
// spans as on the embedded engine. The traceparent a run's span is a
// child of travels in a Temporal header (traceHeader), written by
// tracePropagator, a context propagator of the engine's clients:
//
//   - a client's start carries the caller's span, if its ctx has one;
//   - a workflow reads it (ExtractToWorkflow: parentKey), and its
//     activities and child workflows carry the run's own span context
//     (InjectFromWorkflow: runSpanKey, set only when tracing), so their
//     spans are its children;
//   - an activity reads it into its ctx (Extract): its attempt span's
//     parent.
//
// Temporal's contrib/opentelemetry interceptor is not used: its spans are
// "RunWorkflow:NAME" and "RunActivity:NAME" with temporal* tags, one
// workflow span per workflow task execution, opened and never ended when
// a cached workflow is evicted; ours are the embedded engine's, one per
// run (kept open across evictions in telemetry.T when the provider makes
// its own span ids).

// traceHeader is the Temporal header holding a W3C traceparent.
const traceHeader = "cloudbutton-traceparent"

// parentKey holds the traceparent of a workflow's header; runSpanKey the
// traceparent its activities and child workflows get, or the *runTrace
// that makes it (when the worker keeps run spans open).
type (
	parentKey  struct{}
	runSpanKey struct{}
)

// tracePropagator carries traceparents in traceHeader.
type tracePropagator struct{}

var _ workflow.ContextPropagator = tracePropagator{}

func traceHeaderPayload(tp string) (*commonpb.Payload, error) {
	return converter.GetDefaultDataConverter().ToPayload(tp)
}

func readTraceHeader(r workflow.HeaderReader) string {
	p, ok := r.Get(traceHeader)
	if !ok {
		return ""
	}
	var tp string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &tp); err != nil {
		return "" // not ours: tracing only
	}
	return tp
}

// Inject writes the span of a client's ctx.
func (tracePropagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	tp := telemetry.ParentFromContext(ctx)
	if tp == "" {
		return nil
	}
	p, err := traceHeaderPayload(tp)
	if err != nil {
		return err
	}
	w.Set(traceHeader, p)
	return nil
}

// Extract puts the header's span in an activity's ctx.
func (tracePropagator) Extract(ctx context.Context, r workflow.HeaderReader) (context.Context, error) {
	if sc := telemetry.ParseParent(readTraceHeader(r)); sc.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	return ctx, nil
}

// InjectFromWorkflow writes the run's span for its activities and child
// workflows.
func (tracePropagator) InjectFromWorkflow(ctx workflow.Context, w workflow.HeaderWriter) error {
	var tp string
	switch v := ctx.Value(runSpanKey{}).(type) {
	case string:
		tp = v
	case *runTrace:
		tp = v.parent(ctx)
	}
	if tp == "" {
		return nil
	}
	p, err := traceHeaderPayload(tp)
	if err != nil {
		return err
	}
	w.Set(traceHeader, p)
	return nil
}

// ExtractToWorkflow reads the span a workflow's run is a child of.
func (tracePropagator) ExtractToWorkflow(ctx workflow.Context, r workflow.HeaderReader) (workflow.Context, error) {
	if tp := readTraceHeader(r); tp != "" {
		ctx = workflow.WithValue(ctx, parentKey{}, tp)
	}
	return ctx, nil
}

// propagators are the context propagators of the engine's clients.
func propagators() []workflow.ContextPropagator {
	return []workflow.ContextPropagator{tracePropagator{}}
}

// runTrace is an orchestration run's tracing.
type runTrace struct {
	tel *telemetry.T
	run telemetry.Run
	// ended: the run's span ended; a later command does not begin it
	// again.
	ended bool
}

// traceRun starts the tracing of the run of wctx: it counts the run and
// starts its live span (once, not on replay) and, when tracing, returns
// wctx carrying the run's span context for its activities and children
// (in the headers of their commands).
func (rt *runtime) traceRun(wctx workflow.Context, st *wfState) (workflow.Context, *runTrace) {
	if rt.tel == nil {
		return wctx, nil
	}
	parent, _ := wctx.Value(parentKey{}).(string)
	r := &runTrace{tel: rt.tel, run: telemetry.Run{InstanceID: st.info.InstanceID, Name: st.info.Name, RunID: st.info.RunID,
		ParentInstanceID: st.info.ParentInstanceID, Generation: st.info.Generation, Parent: parent}}
	if !workflow.IsReplaying(wctx) {
		rt.tel.RunStarted(context.Background(), st.info.Name)
	}
	switch {
	case rt.tel.Live():
		// The run's first workflow task (what precedes this in the
		// function is replayed on later ones) starts its span; so does a
		// worker that picks the run up later, at its first command
		// (parent).
		r.begin(wctx)
		wctx = workflow.WithValue(wctx, runSpanKey{}, r)
	case rt.tel.Tracing:
		wctx = workflow.WithValue(wctx, runSpanKey{}, telemetry.FormatParent(r.run.SpanContext()))
	}
	return wctx, r
}

// begin starts the run's live span, unless replaying (a side effect
// outside history) or open already: it stays in r.tel, which outlives the
// workflow's eviction from the worker's cache.
func (r *runTrace) begin(wctx workflow.Context) {
	if !r.ended && !workflow.IsReplaying(wctx) {
		r.tel.RunBegan(r.run, workflow.GetInfo(wctx).WorkflowStartTime)
	}
}

// parent is the traceparent of a command of the run (an activity, a
// child workflow) when the worker keeps run spans open: its live span's,
// begun if this worker had not yet (it picked the run up mid-way).
// Replayed commands are not sent and their headers not compared.
func (r *runTrace) parent(wctx workflow.Context) string {
	r.begin(wctx)
	return telemetry.FormatParent(r.tel.RunParent(r.run))
}

// end ends the run's span (not on replay: by the worker that runs the
// run's last task).
func (r *runTrace) end(wctx workflow.Context, outcome telemetry.Outcome, f *core.Failure) {
	if r == nil {
		return
	}
	r.ended = true
	if workflow.IsReplaying(wctx) {
		return
	}
	r.tel.RunEnded(context.Background(), r.run, workflow.GetInfo(wctx).WorkflowStartTime, workflow.Now(wctx), outcome, f)
}

// nextRun is the context of a continue-as-new: the next run's span has the
// same parent as this one's.
func (r *runTrace) nextRun(wctx workflow.Context) workflow.Context {
	if r == nil || !r.tel.Tracing {
		return wctx
	}
	return workflow.WithValue(wctx, runSpanKey{}, r.run.Parent)
}

// batchTrace makes a batch workflow's activities children of the
// orchestration's run, whose span its header carries.
func batchTrace(wctx workflow.Context) workflow.Context {
	if tp, _ := wctx.Value(parentKey{}).(string); tp != "" {
		wctx = workflow.WithValue(wctx, runSpanKey{}, tp)
	}
	return wctx
}

// invoke runs req through the invoker, within its attempt's span (a child
// of the run's span that the activity's header carries into ctx) when
// tracing.
func (a *activityRunner) invoke(ctx context.Context, req faas.Request) ([]byte, error) {
	if a.tel == nil {
		return a.invoker.Invoke(ctx, req)
	}
	a.running.n.Add(1)
	defer a.running.n.Add(-1)
	at := telemetry.Attempt{Parent: trace.SpanContextFromContext(ctx), InstanceID: req.InstanceID, RunID: req.RunID,
		Activity: req.Activity, TaskID: req.TaskID, Attempt: req.Attempt, IdempotencyKey: req.IdempotencyKey}
	return a.tel.Invoke(ctx, at, func(ctx context.Context) ([]byte, error) { return a.invoker.Invoke(ctx, req) })
}

// pendingCounter counts the attempts running in a worker.
type pendingCounter struct{ n atomic.Int64 }

func (c *pendingCounter) value() int64 { return c.n.Load() }
