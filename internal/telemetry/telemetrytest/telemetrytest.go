// Package telemetrytest checks the engines' OpenTelemetry output: SDK
// providers over an in-memory exporter and a manual metric reader, the
// orchestrations the checks run, and the checks themselves, written once
// for both engines.
package telemetrytest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/telemetry"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Env holds SDK providers whose output the checks read.
type Env struct {
	Spans  *tracetest.InMemoryExporter
	Tracer *sdktrace.TracerProvider
	Reader *sdkmetric.ManualReader
	Meter  *sdkmetric.MeterProvider
}

// New returns providers that export synchronously into memory, with
// telemetry.IDGenerator; they are shut down at cleanup.
func New(t testing.TB) *Env {
	return newEnv(t, sdktrace.WithIDGenerator(telemetry.IDGenerator{}))
}

// NewPlain is New without telemetry.IDGenerator: the tracer provider most
// users build, which makes its own span ids.
func NewPlain(t testing.TB) *Env { return newEnv(t) }

func newEnv(t testing.TB, opts ...sdktrace.TracerProviderOption) *Env {
	e := &Env{Spans: tracetest.NewInMemoryExporter(), Reader: sdkmetric.NewManualReader()}
	e.Tracer = sdktrace.NewTracerProvider(append([]sdktrace.TracerProviderOption{sdktrace.WithSyncer(e.Spans)}, opts...)...)
	e.Meter = sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.Reader))
	t.Cleanup(func() {
		_ = e.Tracer.Shutdown(context.Background())
		_ = e.Meter.Shutdown(context.Background())
	})
	return e
}

// Options sets the providers in worker options.
func (e *Env) Options(o worker.Options) worker.Options {
	o.TracerProvider, o.MeterProvider = e.Tracer, e.Meter
	return o
}

// Register registers the checks' orchestrations and activities.
func Register(w *worker.Worker) {
	w.RegisterOrchestrators(FanOut, Retried, Parent, Child, Failing, WaitsBetween, Continued)
	w.RegisterActivities(Traced, Flaky, Fail)
}

// OwnSpan is the name of the span that Traced starts itself.
const OwnSpan = "own work"

// Traced starts a span of its own from its ctx, and returns its input.
var Traced = activity.New("telemetry.traced", func(ctx context.Context, n int) (int, error) {
	_, span := trace.SpanFromContext(ctx).TracerProvider().Tracer("user").Start(ctx, OwnSpan)
	span.End()
	return n, nil
})

// Flaky fails its first two attempts.
var Flaky = activity.New("telemetry.flaky", func(ctx context.Context, _ struct{}) (int, error) {
	info, _ := activity.InfoFrom(ctx)
	if info.Attempt < 3 {
		return 0, activity.NewError("Flaky", fmt.Sprintf("attempt %d fails", info.Attempt))
	}
	return info.Attempt, nil
})

// Fail always fails, for good.
var Fail = activity.New("telemetry.fail", func(ctx context.Context, _ struct{}) (int, error) {
	return 0, activity.NewNonRetryableError("Broken", "it never works")
})

// FanOut calls Traced n times at once.
var FanOut = orchestration.New("telemetry.fanout", func(ctx orchestration.Context, n int) (int, error) {
	fs := make([]orchestration.Future[int], n)
	for i := range fs {
		fs[i] = orchestration.Call(ctx, Traced, i)
	}
	out, err := orchestration.All(ctx, fs...).Await(ctx)
	sum := 0
	for _, v := range out {
		sum += v
	}
	return sum, err
})

// Retried calls Flaky with three attempts.
var Retried = orchestration.New("telemetry.retried", func(ctx orchestration.Context, _ struct{}) (int, error) {
	return orchestration.Call(ctx, Flaky, struct{}{}, orchestration.WithRetry(orchestration.RetryPolicy{
		MaxAttempts: 3, InitialInterval: 10 * time.Millisecond, BackoffCoefficient: 1})).Await(ctx)
})

// Parent runs Child as a sub-orchestration.
var Parent = orchestration.New("telemetry.parent", func(ctx orchestration.Context, n int) (int, error) {
	return orchestration.CallSub(ctx, Child, n).Await(ctx)
})

// Child calls Traced once.
var Child = orchestration.New("telemetry.child", func(ctx orchestration.Context, n int) (int, error) {
	return orchestration.Call(ctx, Traced, n).Await(ctx)
})

// Failing fails with Fail's error.
var Failing = orchestration.New("telemetry.failing", func(ctx orchestration.Context, _ struct{}) (int, error) {
	return orchestration.Call(ctx, Fail, struct{}{}).Await(ctx)
})

// WaitsBetween calls Traced, waits for event "go", and calls it again.
var WaitsBetween = orchestration.New("telemetry.waits-between", func(ctx orchestration.Context, _ struct{}) (int, error) {
	if _, err := orchestration.Call(ctx, Traced, 1).Await(ctx); err != nil {
		return 0, err
	}
	if _, err := orchestration.WaitEvent[struct{}](ctx, "go", time.Hour).Await(ctx); err != nil {
		return 0, err
	}
	return orchestration.Call(ctx, Traced, 2).Await(ctx)
})

// Continued calls Traced, then continues as new with n-1 until n is 0.
var Continued = orchestration.New("telemetry.continued", func(ctx orchestration.Context, n int) (int, error) {
	if _, err := orchestration.Call(ctx, Traced, n).Await(ctx); err != nil {
		return 0, err
	}
	if n > 0 {
		return 0, orchestration.ContinueAsNew(ctx, n-1)
	}
	return 0, nil
})

// CheckContinued checks the spans of Continued(1) of instance id: two run
// spans, siblings (the same parent: none), the first continued as new,
// each the parent of its run's attempt.
func (e *Env) CheckContinued(t *testing.T, id string) {
	t.Helper()
	var runs []tracetest.SpanStub
	require.Eventually(t, func() bool { runs = e.Runs(Continued, id); return len(runs) == 2 },
		30*time.Second, 5*time.Millisecond)
	outcomes := map[string]trace.SpanID{}
	for _, r := range runs {
		outcomes[attr(r, telemetry.AttrOutcome)] = r.SpanContext.SpanID()
		assert.False(t, r.Parent.IsValid(), "a root, as the run before it")
	}
	require.Contains(t, outcomes, string(telemetry.ContinuedAsNew))
	require.Contains(t, outcomes, string(telemetry.Completed))
	attempts := e.Attempts(Traced, id)
	require.Len(t, attempts, 2)
	parents := map[trace.SpanID]bool{}
	for _, a := range attempts {
		parents[a.Parent.SpanID()] = true
	}
	assert.Equal(t, map[trace.SpanID]bool{outcomes[string(telemetry.ContinuedAsNew)]: true, outcomes[string(telemetry.Completed)]: true},
		parents, "an attempt per run, under its run")
}

// Attempts returns the ended attempt spans of activity a of instance id.
func (e *Env) Attempts(a activity.Definition, id string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range Named(e.Ended(), "activity "+a.Name()) {
		if attr(s, telemetry.AttrInstanceID) == id {
			out = append(out, s)
		}
	}
	return out
}

// CheckEvicted runs WaitsBetween on c, whose worker caches one
// instance, and a FanOut(1) while it waits, which evicts it: the run's
// two attempts are children of its one span all the same.
func (e *Env) CheckEvicted(t *testing.T, ctx context.Context, c client.Client) {
	t.Helper()
	id, err := client.Start(ctx, c, WaitsBetween, struct{}{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(e.Attempts(Traced, id)) == 1 }, 30*time.Second, 5*time.Millisecond)
	other, err := client.Start(ctx, c, FanOut, 1)
	require.NoError(t, err)
	_, err = c.Wait(ctx, other)
	require.NoError(t, err)
	require.NoError(t, client.RaiseEvent(ctx, c, id, "go", struct{}{}))
	_, err = c.Wait(ctx, id)
	require.NoError(t, err)
	run := e.RunSpan(t, WaitsBetween, id)
	attempts := e.Attempts(Traced, id)
	require.Len(t, attempts, 2)
	for _, a := range attempts {
		assert.Equal(t, run.SpanContext.TraceID(), a.SpanContext.TraceID(), "one trace")
		assert.Equal(t, run.SpanContext.SpanID(), a.Parent.SpanID(), "an attempt is a child of its run")
	}
	assert.Len(t, e.Runs(WaitsBetween, id), 1, "one run span")
}

// Runs returns the ended run spans of o of instance id.
func (e *Env) Runs(o orchestration.Definition, id string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range Named(e.Ended(), "orchestration "+o.Name()) {
		if attr(s, telemetry.AttrInstanceID) == id {
			out = append(out, s)
		}
	}
	return out
}

// Ended returns the spans ended so far.
func (e *Env) Ended() tracetest.SpanStubs { return e.Spans.GetSpans() }

// WaitSpan waits until a span named name with attribute instance id is
// ended (a run's span is ended just after the commit its client waits
// for), and returns it.
func (e *Env) WaitSpan(t testing.TB, name, id string) tracetest.SpanStub {
	t.Helper()
	var got tracetest.SpanStub
	require.Eventually(t, func() bool {
		for _, s := range e.Ended() {
			if s.Name == name && attr(s, telemetry.AttrInstanceID) == id {
				got = s
				return true
			}
		}
		return false
	}, 30*time.Second, 5*time.Millisecond, "no span %q of instance %q", name, id)
	return got
}

// Named returns the spans named name.
func Named(spans tracetest.SpanStubs, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func attr(s tracetest.SpanStub, k attribute.Key) string {
	for _, a := range s.Attributes {
		if a.Key == k {
			return a.Value.Emit()
		}
	}
	return ""
}

// Attr returns the value of attribute k of s, as text ("" if absent).
func Attr(s tracetest.SpanStub, k attribute.Key) string { return attr(s, k) }

// RunSpan returns the span of the run of FanOut/Retried/... id.
func (e *Env) RunSpan(t testing.TB, o orchestration.Definition, id string) tracetest.SpanStub {
	t.Helper()
	return e.WaitSpan(t, "orchestration "+o.Name(), id)
}

// CheckFanOut checks the spans of FanOut(n) of instance id: one trace,
// with n attempt spans under the run's span, each the parent of the
// activity's own span.
func (e *Env) CheckFanOut(t *testing.T, id string, n int) {
	t.Helper()
	run := e.RunSpan(t, FanOut, id)
	assert.Equal(t, id, attr(run, telemetry.AttrInstanceID))
	assert.Equal(t, FanOut.Name(), attr(run, telemetry.AttrOrchestration))
	assert.Equal(t, string(telemetry.Completed), attr(run, telemetry.AttrOutcome))
	assert.NotEmpty(t, attr(run, telemetry.AttrRunID))
	assert.Equal(t, codes.Unset, run.Status.Code)
	assert.True(t, run.EndTime.After(run.StartTime), "the run's span lasts")
	var attempts []tracetest.SpanStub
	for _, s := range Named(e.Ended(), "activity "+Traced.Name()) {
		if attr(s, telemetry.AttrInstanceID) == id {
			attempts = append(attempts, s)
		}
	}
	require.Len(t, attempts, n)
	own := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range Named(e.Ended(), OwnSpan) {
		own[s.Parent.SpanID()] = s
	}
	keys := map[string]bool{}
	for _, a := range attempts {
		assert.Equal(t, run.SpanContext.TraceID(), a.SpanContext.TraceID(), "one trace")
		assert.Equal(t, run.SpanContext.SpanID(), a.Parent.SpanID(), "an attempt is a child of its run")
		assert.Equal(t, "1", attr(a, telemetry.AttrAttempt))
		assert.Equal(t, Traced.Name(), attr(a, telemetry.AttrActivity))
		keys[attr(a, telemetry.AttrIdempotencyKey)] = true
		o, ok := own[a.SpanContext.SpanID()]
		if assert.True(t, ok, "the activity's own span is a child of its attempt's") {
			assert.Equal(t, a.SpanContext.TraceID(), o.SpanContext.TraceID())
		}
		assert.False(t, a.StartTime.Before(run.StartTime), "an attempt starts after its run")
	}
	assert.Len(t, keys, n, "an idempotency key per attempt")
}

// CheckRetried checks the spans of Retried of instance id: one span per
// attempt, numbered, the first two failed.
func (e *Env) CheckRetried(t *testing.T, id string) {
	t.Helper()
	run := e.RunSpan(t, Retried, id)
	got := map[string]codes.Code{}
	for _, s := range Named(e.Ended(), "activity "+Flaky.Name()) {
		if attr(s, telemetry.AttrInstanceID) != id {
			continue
		}
		assert.Equal(t, run.SpanContext.SpanID(), s.Parent.SpanID())
		got[attr(s, telemetry.AttrAttempt)] = s.Status.Code
		if s.Status.Code == codes.Error {
			assert.Equal(t, "Flaky", attr(s, telemetry.AttrFailureType))
			assert.NotEmpty(t, s.Events, "the error is recorded")
		}
	}
	assert.Equal(t, map[string]codes.Code{"1": codes.Error, "2": codes.Error, "3": codes.Unset}, got)
}

// CheckParent checks that the run of Child started by Parent id is a
// child of (and linked to) Parent's run, in its trace.
func (e *Env) CheckParent(t *testing.T, id string) {
	t.Helper()
	parent := e.RunSpan(t, Parent, id)
	var child tracetest.SpanStub
	require.Eventually(t, func() bool {
		for _, s := range Named(e.Ended(), "orchestration "+Child.Name()) {
			if attr(s, telemetry.AttrParentInstance) == id {
				child = s
				return true
			}
		}
		return false
	}, 30*time.Second, 5*time.Millisecond)
	assert.Equal(t, parent.SpanContext.TraceID(), child.SpanContext.TraceID())
	assert.Equal(t, parent.SpanContext.SpanID(), child.Parent.SpanID())
	require.Len(t, child.Links, 1)
	assert.Equal(t, parent.SpanContext.SpanID(), child.Links[0].SpanContext.SpanID())
	childID := attr(child, telemetry.AttrInstanceID)
	for _, s := range Named(e.Ended(), "activity "+Traced.Name()) {
		if attr(s, telemetry.AttrInstanceID) == childID {
			assert.Equal(t, child.SpanContext.SpanID(), s.Parent.SpanID())
			return
		}
	}
	t.Errorf("no attempt span of the child %q", childID)
}

// CheckJoined checks that the run of FanOut id, started with caller in
// its ctx, is a child of caller.
func (e *Env) CheckJoined(t *testing.T, id string, caller trace.SpanContext) {
	t.Helper()
	run := e.RunSpan(t, FanOut, id)
	assert.Equal(t, caller.TraceID(), run.SpanContext.TraceID())
	assert.Equal(t, caller.SpanID(), run.Parent.SpanID())
}

// CheckFailing checks the run span of Failing id: Error status, the
// failure recorded.
func (e *Env) CheckFailing(t *testing.T, id string) {
	t.Helper()
	run := e.RunSpan(t, Failing, id)
	assert.Equal(t, codes.Error, run.Status.Code)
	assert.Contains(t, run.Status.Description, "it never works")
	assert.Equal(t, string(telemetry.Failed), attr(run, telemetry.AttrOutcome))
	require.NotEmpty(t, run.Events)
	assert.Equal(t, "exception", run.Events[0].Name)
}

// Metrics collects the metrics so far, by name.
func (e *Env) Metrics(t testing.TB) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, e.Reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// Sum returns the sum of counter name over data points whose attribute
// k is v (any, when k is "").
func Sum(m metricdata.Metrics, k attribute.Key, v string) (int64, error) {
	s, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		return 0, errors.New("not an int64 sum: " + m.Name)
	}
	var n int64
	for _, dp := range s.DataPoints {
		if got, ok := dp.Attributes.Value(k); k == "" || ok && got.Emit() == v {
			n += dp.Value
		}
	}
	return n, nil
}

// Count returns the number of values recorded by histogram name over
// data points whose attribute k is v (any, when k is "").
func Count(m metricdata.Metrics, k attribute.Key, v string) (uint64, error) {
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		return 0, errors.New("not a float64 histogram: " + m.Name)
	}
	var n uint64
	for _, dp := range h.DataPoints {
		if got, ok := dp.Attributes.Value(k); k == "" || ok && got.Emit() == v {
			n += dp.Count
		}
	}
	return n, nil
}

// CheckMetrics checks the metrics after one FanOut(n), one Retried and
// one Failing ran to their ends; commits says whether the engine records
// commit latency.
func (e *Env) CheckMetrics(t *testing.T, n int, commits bool) {
	t.Helper()
	var ms map[string]metricdata.Metrics
	// A run is counted just after the commit its client waits for.
	require.Eventually(t, func() bool {
		ms = e.Metrics(t)
		c, _ := Sum(ms[telemetry.MetricCompletions], "", "")
		f, _ := Sum(ms[telemetry.MetricFailures], "", "")
		return c >= 2 && f >= 1
	}, 30*time.Second, 5*time.Millisecond)
	for _, name := range []string{FanOut.Name(), Retried.Name(), Failing.Name()} {
		got, err := Sum(ms[telemetry.MetricStarts], telemetry.AttrOrchestration, name)
		require.NoError(t, err)
		assert.Equal(t, int64(1), got, "starts of %s", name)
	}
	got, err := Sum(ms[telemetry.MetricCompletions], telemetry.AttrOrchestration, FanOut.Name())
	require.NoError(t, err)
	assert.Equal(t, int64(1), got)
	got, err = Sum(ms[telemetry.MetricFailures], telemetry.AttrOrchestration, Failing.Name())
	require.NoError(t, err)
	assert.Equal(t, int64(1), got)
	count, err := Count(ms[telemetry.MetricActivityLatency], telemetry.AttrActivity, Traced.Name())
	require.NoError(t, err)
	assert.Equal(t, uint64(n), count, "an activity latency per attempt")
	count, err = Count(ms[telemetry.MetricActivityLatency], telemetry.AttrActivityOutcome, "failed")
	require.NoError(t, err)
	assert.Equal(t, uint64(3), count, "Flaky's two failed attempts and Fail's")
	pending, err := Sum(ms[telemetry.MetricPending], "", "")
	require.NoError(t, err)
	assert.Equal(t, int64(0), pending, "nothing pending once all ended")
	if commits {
		count, err = Count(ms[telemetry.MetricCommitLatency], "", "")
		require.NoError(t, err)
		assert.Positive(t, count)
	} else {
		assert.NotContains(t, ms, telemetry.MetricCommitLatency)
	}
}
