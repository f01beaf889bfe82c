// Package telemetry describes CloudButton's OpenTelemetry instrumentation
// and holds the names of its spans, attributes and metrics, and
// IDGenerator, recommended for deployments with several workers.
//
// # Turning it on
//
// Tracing and metrics are off by default, at no cost: without providers
// the engines run the otel no-op tracer and meter and compute nothing for
// them. A worker traces and measures when its options have providers:
//
//	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter),
//		sdktrace.WithIDGenerator(telemetry.IDGenerator{})) // optional: see Spans
//	w := worker.New(eng, worker.Options{TracerProvider: tp, MeterProvider: mp})
//
// The CLI's worker does this from the standard OTEL_* environment
// variables (package cli).
//
// # Spans
//
// Each orchestration run is one span, "orchestration NAME", and each
// activity attempt one span, "activity NAME", a child of its run's span
// (SpanKindClient: an attempt is a function invocation). An activity's
// ctx carries its attempt's span, so a span the activity starts is a child
// of it; invokers pass it on to Lambda functions as a W3C traceparent in
// the invocation's client context (faas/awslambda), which
// faas/lambdahandler restores into the handler's ctx.
//
// A run lasts from its start to its end, across many steps, maybe worker
// restarts and, on Temporal, many workers. Its span's parent is:
//
//   - a run started by a caller whose ctx holds a span (client.Start with
//     a traced ctx) joins the caller's trace, as a child of that span (the
//     client records the traceparent with the start);
//   - a sub-orchestration's run is a child of its parent's run's span, with
//     a link to it;
//   - the next run after continue-as-new has the same parent as the run
//     before it;
//   - otherwise the run's span is the root of a trace of its own.
//
// How the attempts find their run's span depends on the TracerProvider:
//
//   - Any provider (sdktrace.NewTracerProvider with its defaults, the one
//     most programs build): the worker that starts a run starts its span
//     then, with the run's start time, keeps it in memory (not in its
//     cache of instances: an instance evicted and reloaded finds it), and
//     ends it when the run ends. So the run's attempts and
//     sub-orchestrations nest under it when one worker process steps the
//     run from its start to its end. A worker that picks a run up in the
//     middle (after a restart; on Temporal, when the workflow's tasks move
//     to it) starts its span then, with the run's real start: the
//     attempts from then on nest under it; those of the worker before
//     point to that worker's span of the run, never exported (and, for a
//     run without a parent, in the trace that span began). A worker that
//     stops drops the spans of the runs still open, unended (ending one
//     would claim an end the run has not had, and the worker that ends
//     the run emits its span). It holds at most 16,384 open; beyond, and
//     for a run that ends in a worker that never stepped it, the run
//     falls back to the derived ids of the next item, which this provider
//     does not honour: its span is emitted at its end with ids of the
//     provider's choosing, and its attempts' spans point to a parent never
//     exported (the log says so once when the bound is reached).
//   - A provider built with sdktrace.WithIDGenerator(IDGenerator{}): a
//     run's span ids are derived from the run (its instance id and run id,
//     hashed), so any process that runs one of its attempts, before or
//     after a restart, on any worker, makes the attempt's span a child of
//     it, and the run's span is emitted when the run ends, with its real
//     start time; the trace id of a run without a parent is derived from
//     the run too. Spans always nest: recommended when several workers
//     share runs (Temporal) or workers restart with runs in flight. A
//     provider whose IDGenerator is another is as any provider.
//
// Joining the caller's trace suits a run that its caller waits for (an
// HTTP request that starts a job). A run that lasts days would keep the
// caller's trace growing for days: start it with a ctx without a span
// (trace.ContextWithSpanContext(ctx, trace.SpanContext{})) for a trace of
// its own. Continue-as-new starts a run that is a sibling of the one
// before it (the same parent), with no link between them.
//
// Failed attempts and runs record their failure (RecordError, with the
// failure type in AttrFailureType) and set the span status to Error.
//
// # Metrics
//
// Counters of orchestration runs started, completed and failed (a
// terminated run counts as failed, a continue-as-new as completed; see
// AttrOutcome), a histogram of activity attempt durations, a gauge of the
// attempts pending in the worker, and (embedded engine) a histogram of
// store commit durations; see the Metric constants.
//
// # Engines
//
// Both engines emit the same spans with the same names and attributes
// (AttrEngine tells them apart). What differs:
//
//   - run ids and attempts are each engine's own (Temporal's run id and
//     attempt number on Temporal);
//   - on Temporal the traceparent travels in Temporal headers (a context
//     propagator of the engine's client), from the starting client to the
//     workflow, and from it to its activities and child workflows; a
//     fan-out split into batch workflows keeps its activities under the
//     orchestration's run;
//   - on Temporal the run's span ends in the worker that runs the
//     workflow's last task, from the workflow's start time to that task's
//     time (workflow.Now); a task retried after a worker crash may emit
//     it twice. Without IDGenerator, the worker that runs the workflow's
//     first task starts it (not on replay), and another worker that the
//     workflow's tasks move to starts its own at its first new command;
//     the first worker's stays open until it stops, or until it holds the
//     workflow's next run;
//   - the embedded engine has one worker per database at a time, so
//     without IDGenerator only a worker restart mid-run unnests a run's
//     earlier attempts;
//   - the pending gauge counts what the worker holds: on the embedded
//     engine the attempts queued, waiting for a retry or running; on
//     Temporal the attempts running in this worker (the rest wait on the
//     server);
//   - commit latency is the embedded engine's alone (Temporal's
//     persistence is the server's).
package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	itel "github.com/cloudbutton/cloudbutton/internal/telemetry"
)

// IDGenerator is an ID generator for the OpenTelemetry SDK
// (sdktrace.WithIDGenerator): it gives a run's span the ids derived from
// the run, and random ids to every other span, so that a run's spans nest
// whichever workers run it (see Spans in the package doc). It is safe for
// concurrent use; the zero value is ready.
type IDGenerator struct{}

// NewIDs returns the trace and span ids of a new root span.
func (IDGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	return itel.IDGenerator{}.NewIDs(ctx)
}

// NewSpanID returns the span id of a new span in trace traceID.
func (IDGenerator) NewSpanID(ctx context.Context, traceID trace.TraceID) trace.SpanID {
	return itel.IDGenerator{}.NewSpanID(ctx, traceID)
}

// Scope is the instrumentation scope of CloudButton's tracer and meter.
const Scope = itel.Scope

// Span attributes (and, some of them, metric attributes).
const (
	AttrEngine         = itel.AttrEngine         // "embedded" or "temporal"
	AttrInstanceID     = itel.AttrInstanceID     // the orchestration instance
	AttrOrchestration  = itel.AttrOrchestration  // the orchestrator's name
	AttrRunID          = itel.AttrRunID          // the run
	AttrGeneration     = itel.AttrGeneration     // continue-as-new generation, from 0
	AttrOutcome        = itel.AttrOutcome        // completed, failed, terminated, continued_as_new
	AttrParentInstance = itel.AttrParentInstance // a sub-orchestration's parent instance
	AttrActivity       = itel.AttrActivity       // the activity's name
	AttrTaskID         = itel.AttrTaskID         // the activity's sequence number in the run
	AttrAttempt        = itel.AttrAttempt        // the attempt, from 1
	AttrIdempotencyKey = itel.AttrIdempotencyKey // the attempt's idempotency key
	// AttrActivityOutcome is "completed" or "failed" (activity metrics).
	AttrActivityOutcome = itel.AttrActivityOutcome
	AttrFailureType     = itel.AttrFailureType // the failure's type (activity.Error type, "Timeout", ...)
)

// Metric names.
const (
	MetricStarts          = itel.MetricStarts          // counter of runs started
	MetricCompletions     = itel.MetricCompletions     // counter of runs completed
	MetricFailures        = itel.MetricFailures        // counter of runs failed or terminated
	MetricActivityLatency = itel.MetricActivityLatency // histogram of attempt durations, in seconds
	MetricPending         = itel.MetricPending         // gauge of attempts pending in the worker
	MetricCommitLatency   = itel.MetricCommitLatency   // histogram of store commit durations, in seconds (embedded)
)
