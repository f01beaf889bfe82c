// Package telemetry is the engines' OpenTelemetry instrumentation: a span
// per orchestration run and per activity attempt, and the metrics, written
// once for both engines. Without providers it is off and costs nothing: the
// engines check Tracing and Metrics before computing anything for it, and
// the instruments are the otel no-op ones.
//
// Names (public package telemetry documents them for users): the run
// span is "orchestration NAME", the attempt span "activity NAME"; their
// attributes are under "cloudbutton." (Attr*).
package telemetry

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
)

// Scope is the instrumentation scope of every tracer and meter.
const Scope = "github.com/cloudbutton/cloudbutton"

// Attribute keys.
const (
	AttrEngine          = attribute.Key("cloudbutton.engine")
	AttrInstanceID      = attribute.Key("cloudbutton.instance.id")
	AttrOrchestration   = attribute.Key("cloudbutton.orchestration.name")
	AttrRunID           = attribute.Key("cloudbutton.run.id")
	AttrGeneration      = attribute.Key("cloudbutton.run.generation")
	AttrOutcome         = attribute.Key("cloudbutton.run.outcome")
	AttrParentInstance  = attribute.Key("cloudbutton.parent.instance.id")
	AttrActivity        = attribute.Key("cloudbutton.activity.name")
	AttrTaskID          = attribute.Key("cloudbutton.activity.task_id")
	AttrAttempt         = attribute.Key("cloudbutton.activity.attempt")
	AttrIdempotencyKey  = attribute.Key("cloudbutton.activity.idempotency_key")
	AttrActivityOutcome = attribute.Key("cloudbutton.activity.outcome")
	AttrFailureType     = attribute.Key("cloudbutton.failure.type")
)

// Metric names.
const (
	MetricStarts          = "cloudbutton.orchestration.starts"
	MetricCompletions     = "cloudbutton.orchestration.completions"
	MetricFailures        = "cloudbutton.orchestration.failures"
	MetricActivityLatency = "cloudbutton.activity.duration"
	MetricPending         = "cloudbutton.activity.pending"
	MetricCommitLatency   = "cloudbutton.store.commit.duration"
)

// Outcome is how a run ended.
type Outcome string

// The outcomes of a run.
const (
	Completed      Outcome = "completed"
	Failed         Outcome = "failed"
	Terminated     Outcome = "terminated"
	ContinuedAsNew Outcome = "continued_as_new"
)

// T is one worker's instrumentation. A nil *T is off. It is safe for
// concurrent use.
type T struct {
	// Tracing and Metrics say whether a provider was given.
	Tracing, Metrics bool

	engine      attribute.KeyValue
	tracer      trace.Tracer
	meter       metric.Meter
	starts      metric.Int64Counter
	completions metric.Int64Counter
	failures    metric.Int64Counter
	activityDur metric.Float64Histogram
	commitDur   metric.Float64Histogram
	// open holds the run spans started in this worker, when tracing with
	// a provider that makes its own span ids (live.go); nil otherwise.
	open *liveRuns
}

// New returns the instrumentation of a worker of engine ("embedded",
// "temporal"); nil providers turn tracing or metrics off. With a tracer
// provider that does not make spans with the ids asked for (one built
// without IDGenerator), the worker keeps the spans of the runs it starts
// open (live.go), and says so on log at Debug.
func New(engine string, tp trace.TracerProvider, mp metric.MeterProvider, log *slog.Logger) (*T, error) {
	t := &T{engine: AttrEngine.String(engine), Tracing: tp != nil, Metrics: mp != nil}
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	t.tracer = tp.Tracer(Scope)
	t.meter = mp.Meter(Scope)
	if t.Tracing && !t.honorsIDs() {
		t.open = newLiveRuns(log)
		if log != nil {
			log.Debug("telemetry: the TracerProvider makes its own span ids: a run's spans nest while one worker process steps it from start to end; " +
				"build it with sdktrace.WithIDGenerator(telemetry.IDGenerator{}) to nest them always (several workers, restarts)")
		}
	}
	var err error
	if t.starts, err = t.meter.Int64Counter(MetricStarts, metric.WithUnit("{run}"),
		metric.WithDescription("Orchestration runs started.")); err != nil {
		return nil, err
	}
	if t.completions, err = t.meter.Int64Counter(MetricCompletions, metric.WithUnit("{run}"),
		metric.WithDescription("Orchestration runs that completed (or continued as new).")); err != nil {
		return nil, err
	}
	if t.failures, err = t.meter.Int64Counter(MetricFailures, metric.WithUnit("{run}"),
		metric.WithDescription("Orchestration runs that failed or were terminated.")); err != nil {
		return nil, err
	}
	if t.activityDur, err = t.meter.Float64Histogram(MetricActivityLatency, metric.WithUnit("s"),
		metric.WithDescription("Duration of activity attempts.")); err != nil {
		return nil, err
	}
	if t.commitDur, err = t.meter.Float64Histogram(MetricCommitLatency, metric.WithUnit("s"),
		metric.WithDescription("Duration of the embedded engine's store commits.")); err != nil {
		return nil, err
	}
	return t, nil
}

// honorsIDs reports whether spans get the ids withIDs asks for. The probe
// span's parent is not sampled, so a parent-based sampler (the SDK's
// default) records nothing; the span is not ended either way.
func (t *T) honorsIDs() bool {
	probe := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, Remote: true})
	want := RunSpanContext("probe", "probe", probe)
	ctx := withIDs(trace.ContextWithRemoteSpanContext(context.Background(), probe), want)
	_, span := t.tracer.Start(ctx, "cloudbutton.probe")
	return span.SpanContext().SpanID() == want.SpanID()
}

// ObservePending registers f as the gauge of pending activities; the
// returned function unregisters it.
func (t *T) ObservePending(f func() int64) (func(), error) {
	if t == nil || !t.Metrics {
		return func() {}, nil
	}
	g, err := t.meter.Int64ObservableUpDownCounter(MetricPending, metric.WithUnit("{activity}"),
		metric.WithDescription("Activity attempts queued, waiting for a retry, or running in this worker."))
	if err != nil {
		return nil, err
	}
	reg, err := t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(g, f(), metric.WithAttributes(t.engine))
		return nil
	}, g)
	if err != nil {
		return nil, err
	}
	return func() { _ = reg.Unregister() }, nil
}

// Run identifies an orchestration run.
type Run struct {
	InstanceID, Name, RunID string
	ParentInstanceID        string
	Generation              int
	// Parent is the traceparent the run's span is a child of ("" none).
	Parent string
}

// SpanContext returns the run's derived span context (RunSpanContext);
// T.RunParent is the one its attempts and children are children of.
func (r *Run) SpanContext() trace.SpanContext {
	return RunSpanContext(r.InstanceID, r.RunID, ParseParent(r.Parent))
}

// RunStarted counts a new run.
func (t *T) RunStarted(ctx context.Context, name string) {
	if t == nil || !t.Metrics {
		return
	}
	t.starts.Add(ctx, 1, metric.WithAttributes(t.engine, AttrOrchestration.String(name)))
}

// RunEnded ends the run's span at end (its open one, if RunBegan started
// it in this worker; else one from start to end, with the run's derived
// ids) and counts its end; f is the failure of a failed or terminated
// run.
func (t *T) RunEnded(ctx context.Context, r Run, start, end time.Time, outcome Outcome, f *core.Failure) {
	if t == nil {
		return
	}
	if t.Metrics {
		attrs := metric.WithAttributes(t.engine, AttrOrchestration.String(r.Name), AttrOutcome.String(string(outcome)))
		switch outcome {
		case Completed, ContinuedAsNew:
			t.completions.Add(ctx, 1, attrs)
		default:
			t.failures.Add(ctx, 1, attrs)
		}
	}
	if !t.Tracing {
		return
	}
	if t.endLive(&r, end, outcome, f) {
		return
	}
	ctx, opts := t.runSpanStart(withIDs(ctx, r.SpanContext()), &r, start)
	opts = append(opts, trace.WithAttributes(AttrOutcome.String(string(outcome))))
	_, span := t.tracer.Start(ctx, "orchestration "+r.Name, opts...)
	failed(span, f)
	span.End(trace.WithTimestamp(end))
}

// Attempt identifies an activity attempt.
type Attempt struct {
	// Parent is its run's span context (T.RunParent).
	Parent            trace.SpanContext
	InstanceID, RunID string
	Activity          string
	TaskID            int64
	Attempt           int
	IdempotencyKey    string
}

// StartAttempt starts the attempt's span, a child of its run's span, and
// returns ctx carrying it: the activity's own spans are its children, and
// invokers propagate it (W3C traceparent) to functions.
func (t *T) StartAttempt(ctx context.Context, a Attempt) (context.Context, trace.Span) {
	if a.Parent.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, a.Parent)
	}
	return t.tracer.Start(ctx, "activity "+a.Activity, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		t.engine, AttrInstanceID.String(a.InstanceID), AttrRunID.String(a.RunID), AttrActivity.String(a.Activity),
		AttrTaskID.Int64(a.TaskID), AttrAttempt.Int(a.Attempt), AttrIdempotencyKey.String(a.IdempotencyKey)))
}

// AttemptEnded ends the attempt's span (if tracing) and records its
// duration (if metrics); f is its failure, nil if it succeeded.
func (t *T) AttemptEnded(ctx context.Context, span trace.Span, activity string, start time.Time, f *core.Failure) {
	if t == nil {
		return
	}
	if t.Metrics {
		outcome := "completed"
		if f != nil {
			outcome = "failed"
		}
		t.activityDur.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(t.engine,
			AttrActivity.String(activity), AttrActivityOutcome.String(outcome)))
	}
	if span != nil {
		failed(span, f)
		span.End()
	}
}

// Invoke runs call, the invocation of attempt a, within the attempt's span
// (if tracing: ctx carries it to call) and records its duration (if
// metrics). t must not be nil.
func (t *T) Invoke(ctx context.Context, a Attempt, call func(context.Context) ([]byte, error)) ([]byte, error) {
	start := time.Now()
	var span trace.Span
	if t.Tracing {
		ctx, span = t.StartAttempt(ctx, a)
	}
	out, err := call(ctx)
	var f *core.Failure
	if err != nil {
		f = failerr.From(err)
	}
	t.AttemptEnded(ctx, span, a.Activity, start, f)
	return out, err
}

// CommitDone records a store commit's duration.
func (t *T) CommitDone(ctx context.Context, start time.Time) {
	if t == nil || !t.Metrics {
		return
	}
	t.commitDur.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(t.engine))
}

// failed records f on span and sets its status.
func failed(span trace.Span, f *core.Failure) {
	if f == nil {
		return
	}
	span.SetAttributes(AttrFailureType.String(f.Type))
	var opts []trace.EventOption
	if f.Stack != "" {
		opts = append(opts, trace.WithAttributes(attribute.String("exception.stacktrace", f.Stack)))
	}
	span.RecordError(f, opts...)
	span.SetStatus(codes.Error, f.Error())
}
