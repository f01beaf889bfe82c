package embedded_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/internal/bench"
	"github.com/cloudbutton/cloudbutton/internal/telemetry/telemetrytest"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/telemetry"
	"github.com/cloudbutton/cloudbutton/worker"
)

// startTraced opens an engine on a fresh file with a worker traced into
// env.
func startTraced(t *testing.T, env *telemetrytest.Env) *embedded.Engine {
	t.Helper()
	eng, err := embedded.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), embedded.Options{})
	require.NoError(t, err)
	w := worker.New(eng, env.Options(worker.Options{}))
	telemetrytest.Register(w)
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() {
		require.NoError(t, w.Stop(context.Background()))
		require.NoError(t, eng.Close())
	})
	return eng
}

func TestTelemetry(t *testing.T) {
	env := telemetrytest.New(t)
	eng := startTraced(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Run("fan-out of 10: one trace, 10 attempt spans under the run's", func(t *testing.T) {
		env.CheckFanOut(t, runTo(t, ctx, eng, telemetrytest.FanOut, 10), 10)
	})
	t.Run("a retried activity: a span per attempt", func(t *testing.T) {
		env.CheckRetried(t, runTo(t, ctx, eng, telemetrytest.Retried, struct{}{}))
	})
	t.Run("a sub-orchestration's run is a child of its parent's", func(t *testing.T) {
		env.CheckParent(t, runTo(t, ctx, eng, telemetrytest.Parent, 1))
	})
	t.Run("a failed run records its failure", func(t *testing.T) {
		env.CheckFailing(t, runTo(t, ctx, eng, telemetrytest.Failing, struct{}{}))
	})
	t.Run("metrics", func(t *testing.T) {
		env.CheckMetrics(t, 10+1, true) // Traced: the fan-out's 10 and the child's
	})
	t.Run("a run started from a traced ctx joins the caller's trace", func(t *testing.T) {
		cctx, caller := env.Tracer.Tracer("caller").Start(ctx, "caller")
		defer caller.End()
		env.CheckJoined(t, runTo(t, cctx, eng, telemetrytest.FanOut, 1), trace.SpanContextFromContext(cctx))
	})
	t.Run("continue-as-new: a run span per run, each its attempts' parent", func(t *testing.T) {
		env.CheckContinued(t, runTo(t, ctx, eng, telemetrytest.Continued, 1))
	})
}

// runTo starts o and waits for its end.
func runTo[In, Out any](t *testing.T, ctx context.Context, c client.Client, o *orchestration.Orchestrator[In, Out], in In) string {
	t.Helper()
	id, err := client.Start(ctx, c, o, in)
	require.NoError(t, err)
	_, err = c.Wait(ctx, id)
	require.NoError(t, err)
	return id
}

// A run that outlives its worker has one span, emitted by the second
// worker with the run's real start. With IDGenerator the attempts of both
// workers are its children; with a plain provider the second worker's
// attempt is (it starts the run's span when it first steps the run), and
// the first worker's points to that worker's span of the run, dropped at
// its stop, in the trace that span began.
func TestTelemetryAcrossWorkers(t *testing.T) {
	for name, plain := range map[string]bool{"IDGenerator": false, "plain": true} {
		t.Run(name, func(t *testing.T) {
			env := telemetrytest.New(t)
			if plain {
				env = telemetrytest.NewPlain(t)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			eng, err := embedded.Open(ctx, filepath.Join(t.TempDir(), "test.db"), embedded.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, eng.Close()) })
			newWorker := func() *worker.Worker {
				w := worker.New(eng, env.Options(worker.Options{}))
				telemetrytest.Register(w)
				require.NoError(t, w.Start(ctx))
				return w
			}
			first := newWorker()
			id, err := client.Start(ctx, eng, telemetrytest.WaitsBetween, struct{}{})
			require.NoError(t, err)
			require.Eventually(t, func() bool { return len(env.Attempts(telemetrytest.Traced, id)) == 1 },
				30*time.Second, 5*time.Millisecond)
			require.NoError(t, first.Stop(ctx))
			started := time.Now()

			second := newWorker()
			defer func() { require.NoError(t, second.Stop(ctx)) }()
			require.NoError(t, client.RaiseEvent(ctx, eng, id, "go", struct{}{}))
			_, err = eng.Wait(ctx, id)
			require.NoError(t, err)
			run := env.RunSpan(t, telemetrytest.WaitsBetween, id)
			require.Len(t, env.Runs(telemetrytest.WaitsBetween, id), 1, "one run span")
			require.True(t, run.StartTime.Before(started), "the run's span starts with the run, under the first worker")
			attempts := env.Attempts(telemetrytest.Traced, id) // in the order they ended
			require.Len(t, attempts, 2)
			require.Equal(t, !plain, run.SpanContext.SpanID() == attempts[0].Parent.SpanID(), "the first worker's attempt")
			require.Equal(t, run.SpanContext.SpanID(), attempts[1].Parent.SpanID(), "the second worker's attempt")
			require.Equal(t, run.SpanContext.TraceID(), attempts[1].SpanContext.TraceID())
			// A plain provider chose the trace id of each worker's span of
			// the run (a root).
			require.Equal(t, !plain, run.SpanContext.TraceID() == attempts[0].SpanContext.TraceID())
		})
	}
}

// A run evicted from the worker's cache while it waits keeps its span,
// with a plain provider too: the worker keeps it outside the cache.
func TestTelemetryEvicted(t *testing.T) {
	for name, newEnv := range map[string]func(testing.TB) *telemetrytest.Env{
		"IDGenerator": telemetrytest.New, "plain": telemetrytest.NewPlain} {
		t.Run(name, func(t *testing.T) {
			env := newEnv(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			eng, err := embedded.Open(ctx, filepath.Join(t.TempDir(), "test.db"), embedded.Options{})
			require.NoError(t, err)
			w := worker.New(eng, env.Options(worker.Options{CacheSize: 1}))
			telemetrytest.Register(w)
			require.NoError(t, w.Start(ctx))
			t.Cleanup(func() {
				require.NoError(t, w.Stop(context.Background()))
				require.NoError(t, eng.Close())
			})
			env.CheckEvicted(t, ctx, eng)
		})
	}
}

// BenchmarkFanOutTelemetry is the fan-out of 1,000 of BenchmarkWorkloads
// with telemetry off (no providers: the default) and on (SDK providers,
// spans batched to an exporter that drops them, metrics to a manual
// reader), with IDGenerator and without (live run spans).
func BenchmarkFanOutTelemetry(b *testing.B) {
	w := bench.Standard(false)[0] // fan-out/fan-in 1,000
	for _, mode := range []string{"off", "on", "on-plain"} {
		b.Run(mode, func(b *testing.B) {
			opts := worker.Options{}
			if mode != "off" {
				tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithBatcher(tracetest.NewNoopExporter())}
				if mode == "on" {
					tpOpts = append(tpOpts, sdktrace.WithIDGenerator(telemetry.IDGenerator{}))
				}
				tp := sdktrace.NewTracerProvider(tpOpts...)
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				defer tp.Shutdown(context.Background())
				defer mp.Shutdown(context.Background())
				opts.TracerProvider, opts.MeterProvider = tp, mp
			}
			eng, err := embedded.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), embedded.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			wk := worker.New(eng, opts)
			wk.RegisterOrchestrators(bench.Orchestrators()...)
			wk.RegisterActivities(bench.Activities()...)
			if err := wk.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer wk.Stop(context.Background())
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			for b.Loop() {
				if _, err := bench.Once(ctx, eng, w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// With a plain SDK tracer provider (no telemetry.IDGenerator), the spans
// of a run stepped by one worker nest all the same.
func TestTelemetryPlainProvider(t *testing.T) {
	env := telemetrytest.NewPlain(t)
	eng := startTraced(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Run("fan-out of 10: one trace, 10 attempt spans under the run's", func(t *testing.T) {
		env.CheckFanOut(t, runTo(t, ctx, eng, telemetrytest.FanOut, 10), 10)
	})
	t.Run("a retried activity: a span per attempt", func(t *testing.T) {
		env.CheckRetried(t, runTo(t, ctx, eng, telemetrytest.Retried, struct{}{}))
	})
	t.Run("a sub-orchestration's run is a child of its parent's", func(t *testing.T) {
		env.CheckParent(t, runTo(t, ctx, eng, telemetrytest.Parent, 1))
	})
	t.Run("a failed run records its failure", func(t *testing.T) {
		env.CheckFailing(t, runTo(t, ctx, eng, telemetrytest.Failing, struct{}{}))
	})
	t.Run("continue-as-new: a run span per run, each its attempts' parent", func(t *testing.T) {
		env.CheckContinued(t, runTo(t, ctx, eng, telemetrytest.Continued, 1))
	})
	t.Run("a run started from a traced ctx joins the caller's trace", func(t *testing.T) {
		cctx, caller := env.Tracer.Tracer("caller").Start(ctx, "caller")
		defer caller.End()
		env.CheckJoined(t, runTo(t, cctx, eng, telemetrytest.FanOut, 1), trace.SpanContextFromContext(cctx))
	})
}
