package temporal_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	tworker "go.temporal.io/sdk/worker"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/internal/telemetry/telemetrytest"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// TestTelemetry runs the checks of the embedded engine's TestTelemetry on
// a dev server: the same spans, attributes and metrics.
func TestTelemetry(t *testing.T) {
	env := telemetrytest.New(t)
	eng := openEngine(t, temporal.Options{})
	startWorkerWith(t, eng, env.Options(worker.Options{}), telemetrytest.Register)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
		env.CheckMetrics(t, 10+1, false) // Traced: the fan-out's 10 and the child's
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

// With a plain SDK tracer provider (no telemetry.IDGenerator), the spans
// of a run stepped by one worker nest all the same: fan-out (plain and in
// batch workflows) and sub-orchestrations.
func TestTelemetryPlainProvider(t *testing.T) {
	env := telemetrytest.NewPlain(t)
	eng := openEngine(t, temporal.Options{})
	startWorkerWith(t, eng, env.Options(worker.Options{}), telemetrytest.Register)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Run("fan-out of 10: one trace, 10 attempt spans under the run's", func(t *testing.T) {
		env.CheckFanOut(t, runTo(t, ctx, eng, telemetrytest.FanOut, 10), 10)
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

// A fan-out split into batch workflows keeps its attempts under the
// orchestration's run.
// (With IDGenerator, and with a plain provider.)
func TestTelemetryBatches(t *testing.T) {
	for name, newEnv := range map[string]func(testing.TB) *telemetrytest.Env{
		"IDGenerator": telemetrytest.New, "plain": telemetrytest.NewPlain} {
		t.Run(name, func(t *testing.T) {
			env := newEnv(t)
			eng := openEngine(t, temporal.Options{MaxPendingActivities: 4, BatchSize: 4})
			startWorkerWith(t, eng, env.Options(worker.Options{}), telemetrytest.Register)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			env.CheckFanOut(t, runTo(t, ctx, eng, telemetrytest.FanOut, 10), 10)
		})
	}
}

// A run evicted from the worker's workflow cache while it waits, and
// replayed, keeps its span, with a plain provider too: the worker keeps
// it outside the cache (a cache of one workflow: a FanOut evicts it).
func TestTelemetryEvicted(t *testing.T) {
	for name, newEnv := range map[string]func(testing.TB) *telemetrytest.Env{
		"IDGenerator": telemetrytest.New, "plain": telemetrytest.NewPlain} {
		t.Run(name, func(t *testing.T) {
			// The cache is process-wide and made by the first worker: back
			// to the default once this one stopped (cleanups run last first).
			t.Cleanup(func() { tworker.SetStickyWorkflowCacheSize(worker.DefaultCacheSize) })
			env := newEnv(t)
			eng := openEngine(t, temporal.Options{})
			startWorkerWith(t, eng, env.Options(worker.Options{CacheSize: 2}), telemetrytest.Register) // the SDK keeps CacheSize-1
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			env.CheckEvicted(t, ctx, eng)
		})
	}
}

// A run that outlives its worker: the second worker, which picks the run
// up after replaying it, starts the run's span at its first command (with
// a plain provider; with IDGenerator the derived ids serve both), so its
// attempt nests under the run's one span, emitted with the run's start.
func TestTelemetryAcrossWorkers(t *testing.T) {
	for name, plain := range map[string]bool{"IDGenerator": false, "plain": true} {
		t.Run(name, func(t *testing.T) {
			env := telemetrytest.New(t)
			if plain {
				env = telemetrytest.NewPlain(t)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			eng := openEngine(t, temporal.Options{})
			first := worker.New(eng, env.Options(worker.Options{Logger: quietLogger()}))
			telemetrytest.Register(first)
			require.NoError(t, first.Start(ctx))
			id, err := client.Start(ctx, eng, telemetrytest.WaitsBetween, struct{}{})
			require.NoError(t, err)
			require.Eventually(t, func() bool { return len(env.Attempts(telemetrytest.Traced, id)) == 1 },
				30*time.Second, 5*time.Millisecond)
			stopWorker(t, first)
			started := time.Now()

			startWorkerWith(t, eng, env.Options(worker.Options{}), telemetrytest.Register)
			require.NoError(t, client.RaiseEvent(ctx, eng, id, "go", struct{}{}))
			_, err = eng.Wait(ctx, id)
			require.NoError(t, err)
			run := env.RunSpan(t, telemetrytest.WaitsBetween, id)
			require.Len(t, env.Runs(telemetrytest.WaitsBetween, id), 1, "one run span")
			require.True(t, run.StartTime.Before(started), "the run's span starts with the run")
			attempts := env.Attempts(telemetrytest.Traced, id) // in the order they ended
			require.Len(t, attempts, 2)
			require.Equal(t, !plain, run.SpanContext.SpanID() == attempts[0].Parent.SpanID(), "the first worker's attempt")
			require.Equal(t, run.SpanContext.SpanID(), attempts[1].Parent.SpanID(), "the second worker's attempt")
			require.Equal(t, run.SpanContext.TraceID(), attempts[1].SpanContext.TraceID())
		})
	}
}
