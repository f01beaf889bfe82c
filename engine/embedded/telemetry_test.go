package embedded_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/internal/telemetry/telemetrytest"
	"github.com/cloudbutton/cloudbutton/orchestration"
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
