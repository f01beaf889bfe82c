package temporal_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Temporal-specific semantics of issue 9; the engine-neutral ones are in
// internal/conformance.

func uniqueQueue(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), queues.Add(1))
}

var bbWork = activity.New("bb-work", func(ctx context.Context, x int) (int, error) { return x, nil })

// bbFanOut fans out n activities, then waits for "go".
var bbFanOut = orchestration.New("bb-fan-out", func(ctx orchestration.Context, n int) (int, error) {
	fs := make([]orchestration.Future[int], n)
	for i := range fs {
		fs[i] = orchestration.Call(ctx, bbWork, i)
	}
	vs, err := orchestration.All(ctx, fs...).Await(ctx)
	if err != nil {
		return 0, err
	}
	_ = orchestration.SetCustomStatus(ctx, "waiting")
	if _, err := orchestration.WaitEvent[struct{}](ctx, "go", 0).Await(ctx); err != nil {
		return 0, err
	}
	sum := 0
	for _, v := range vs {
		sum += v
	}
	return sum, nil
})

// TestBatchBoundsRecordedAtStart: a fan-out that ran with small batching
// bounds replays on a worker with other bounds (before, the new worker
// scheduled the batched activities directly: [TMPRL1100]).
func TestBatchBoundsRecordedAtStart(t *testing.T) {
	tq := uniqueQueue("bb")
	register := func(w *worker.Worker) {
		w.RegisterOrchestrators(bbFanOut)
		w.RegisterActivities(bbWork)
	}
	small := openEngine(t, temporal.Options{TaskQueue: tq, MaxPendingActivities: 2, BatchSize: 3})
	w := startWorker(t, small, register)
	ctx := testCtx(t)
	id, err := client.Start(ctx, small, bbFanOut, 8)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := small.Status(ctx, id)
		return err == nil && string(st.CustomStatus) == `"waiting"`
	}, 30*time.Second, 20*time.Millisecond)
	stopWorker(t, w)

	defaults := openEngine(t, temporal.Options{TaskQueue: tq})
	startWorker(t, defaults, register)
	require.NoError(t, client.RaiseEvent(ctx, defaults, id, "go", struct{}{}))
	got, err := client.Result(ctx, defaults, bbFanOut, id)
	require.NoError(t, err)
	assert.Equal(t, 28, got)
}

var uaLate = activity.New("ua-late", func(ctx context.Context, s string) (string, error) { return "late " + s, nil })

var uaCaller = orchestration.New("ua-caller", func(ctx orchestration.Context, _ struct{}) (string, error) {
	_ = orchestration.SetCustomStatus(ctx, "calling")
	return orchestration.CallNamed[string, string](ctx, uaLate.Name(), "x", orchestration.WithRetry(orchestration.RetryPolicy{
		MaxAttempts: 100, InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 1,
	})).Await(ctx)
})

// TestUnknownActivityRetriedForAnotherWorker: an attempt taken by a
// worker that lacks the activity fails retryably, and a worker that
// hosts it runs a later attempt (before, ActivityNotFound was never
// retried: the orchestration failed at once).
func TestUnknownActivityRetriedForAnotherWorker(t *testing.T) {
	tq := uniqueQueue("ua")
	old := openEngine(t, temporal.Options{TaskQueue: tq})
	startWorker(t, old, func(w *worker.Worker) { w.RegisterOrchestrators(uaCaller) })
	ctx := testCtx(t)
	id, err := client.Start(ctx, old, uaCaller, struct{}{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := old.Status(ctx, id)
		return err == nil && string(st.CustomStatus) == `"calling"`
	}, 30*time.Second, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond) // a few attempts fail on the old worker
	st, err := old.Status(ctx, id)
	require.NoError(t, err)
	require.False(t, st.RuntimeStatus.Terminal(), "the missing activity does not fail the orchestration: %+v", st.Failure)

	next := openEngine(t, temporal.Options{TaskQueue: tq})
	startWorker(t, next, func(w *worker.Worker) {
		w.RegisterOrchestrators(uaCaller)
		w.RegisterActivities(uaLate)
	})
	got, err := client.Result(ctx, old, uaCaller, id)
	require.NoError(t, err)
	assert.Equal(t, "late x", got)
}

// TestCheckNamesOptIn: by default the client starts any name; with
// CheckNames it refuses names its workers do not register.
func TestCheckNamesOptIn(t *testing.T) {
	ctx := testCtx(t)
	checked := openEngine(t, temporal.Options{CheckNames: true})
	startWorker(t, checked, func(w *worker.Worker) { w.RegisterOrchestrators(greeter) })
	_, err := checked.StartRaw(ctx, "nobody-hosts-this", []byte(`null`), client.StartOptions{})
	assert.ErrorIs(t, err, client.ErrUnknownName)

	open := openEngine(t, temporal.Options{})
	startWorker(t, open, func(w *worker.Worker) { w.RegisterOrchestrators(greeter) })
	id, err := open.StartRaw(ctx, "nobody-hosts-this", []byte(`null`), client.StartOptions{})
	require.NoError(t, err, "started: a worker that hosts it may come")
	start := time.Now()
	require.NoError(t, open.Terminate(ctx, id, "clean up"))
	assert.Less(t, time.Since(start), 10*time.Second, "Terminate does not wait for a workflow that never ran")
}

// TestUnknownNameLogged: the worker logs the unknown name once, with the
// names it registers, while Temporal retries the workflow task.
func TestUnknownNameLogged(t *testing.T) {
	var buf syncbuf.Buffer
	eng := openEngine(t, temporal.Options{})
	startWorkerWith(t, eng, worker.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))},
		func(w *worker.Worker) { w.RegisterOrchestrators(greeter, talker) })
	ctx := testCtx(t)
	_, err := eng.StartRaw(ctx, "nobody-hosts-this", []byte(`null`), client.StartOptions{})
	require.NoError(t, err)
	line := `orchestrator \"nobody-hosts-this\" is not registered here`
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), line) }, 30*time.Second, 20*time.Millisecond)
	assert.Contains(t, buf.String(), "registered=\"[greeter talker]\"")
}
