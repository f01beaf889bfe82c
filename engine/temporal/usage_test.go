package temporal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// chargingInvoker runs activities in-process and reports charge for every
// attempt of those named "charged-...", failed ones included.
type chargingInvoker struct{ inner faas.Invoker }

var charge = faas.Usage{BilledDuration: 250 * time.Millisecond, MemoryMB: 512} // 0.125 GB-s

func charged(n int64) *client.Usage {
	return &client.Usage{Invocations: n, BilledDuration: time.Duration(n) * charge.BilledDuration, GBSeconds: float64(n) * charge.GBSeconds()}
}

func (c chargingInvoker) Invoke(ctx context.Context, req faas.Request) ([]byte, error) {
	out, err := c.inner.Invoke(ctx, req)
	if strings.HasPrefix(req.Activity, "charged-") {
		faas.ReportUsage(ctx, charge)
	}
	return out, err
}

var (
	chargedSquare = activity.New("charged-square", func(ctx context.Context, x int) (int, error) { return x * x, nil })
	// chargedStall fails its first attempt, then outlives its deadline.
	chargedStall = activity.New("charged-stall", func(ctx context.Context, x int) (int, error) {
		if info, _ := activity.InfoFrom(ctx); info.Attempt == 1 {
			return 0, activity.NewError("Transient", "first attempt")
		}
		<-ctx.Done()
		return 0, ctx.Err()
	})
	chargedFanOut = orchestration.New("charged-fan-out", func(ctx orchestration.Context, n int) (int, error) {
		fs := make([]orchestration.Future[int], n)
		for i := range fs {
			fs[i] = orchestration.Call(ctx, chargedSquare, i)
		}
		vs, err := orchestration.All(ctx, fs...).Await(ctx)
		sum := 0
		for _, v := range vs {
			sum += v
		}
		return sum, err
	})
	chargedThenWait = orchestration.New("charged-then-wait", func(ctx orchestration.Context, _ struct{}) (int, error) {
		if _, err := orchestration.Call(ctx, chargedSquare, 3).Await(ctx); err != nil {
			return 0, err
		}
		return orchestration.WaitEvent[int](ctx, "go", 0).Await(ctx)
	})
	chargedTimeout = orchestration.New("charged-timeout", func(ctx orchestration.Context, _ struct{}) (bool, error) {
		_, err := orchestration.Call(ctx, chargedStall, 1, orchestration.WithStartToCloseTimeout(time.Second),
			orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 2, InitialInterval: 10 * time.Millisecond})).Await(ctx)
		return err != nil, nil
	})
)

func startCharging(t *testing.T, opts temporal.Options) *temporal.Engine {
	t.Helper()
	acts := []activity.Definition{chargedSquare, chargedStall}
	inner, err := faas.NewInProcess(acts, faas.InProcessOptions{})
	require.NoError(t, err)
	eng := openEngine(t, opts)
	startWorkerWith(t, eng, worker.Options{Invoker: chargingInvoker{inner: inner}}, func(w *worker.Worker) {
		w.RegisterOrchestrators(chargedFanOut, chargedThenWait, chargedTimeout)
		w.RegisterActivities(acts...)
	})
	return eng
}

// TestUsageOfBatchedActivities: the activities of a fan-out past
// MaxPendingActivities run in batch workflows; their usage is the
// orchestration's own, and the batch workflows are not counted as its
// sub-orchestrations.
func TestUsageOfBatchedActivities(t *testing.T) {
	eng := startCharging(t, temporal.Options{MaxPendingActivities: 4, BatchSize: 3})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := client.Start(ctx, eng, chargedFanOut, 13)
	require.NoError(t, err)
	got, err := client.Result(ctx, eng, chargedFanOut, id)
	require.NoError(t, err)
	assert.Equal(t, 650, got)
	st, err := eng.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, charged(13), st.Usage)
	assert.Equal(t, &client.Usage{}, st.SubOrchestrationUsage, "batch workflows are its own activities")
}

// TestUsageWhileRunningAndAfterATemporalTerminate: a running instance
// answers its usage in the status query; one that Temporal terminated
// (not the orchestration's Terminate, which it records) has none to tell.
func TestUsageWhileRunningAndAfterATemporalTerminate(t *testing.T) {
	eng := startCharging(t, temporal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, how := range []string{"client", "temporal"} {
		t.Run(how, func(t *testing.T) {
			id, err := client.Start(ctx, eng, chargedThenWait, struct{}{})
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				st, err := eng.Status(ctx, id)
				return err == nil && st.ActivitiesDone == 1
			}, 30*time.Second, 20*time.Millisecond)
			st, err := eng.Status(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, charged(1), st.Usage, "from the status query")
			if how == "client" {
				require.NoError(t, eng.Terminate(ctx, id, "stop"))
			} else {
				require.NoError(t, eng.TemporalClient().TerminateWorkflow(ctx, id, "", "stop"))
			}
			st, err = eng.Wait(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, client.StatusTerminated, st.RuntimeStatus)
			if how == "client" {
				assert.Equal(t, charged(1), st.Usage, "recorded in the memo as it ended")
			} else {
				assert.Nil(t, st.Usage, "not available: the workflow could not record it")
			}
		})
	}
}

// TestUsageOfATimedOutLastAttempt: an attempt that Temporal times out
// reports nothing, but the earlier attempts' usage comes back in its
// timeout's heartbeat details.
func TestUsageOfATimedOutLastAttempt(t *testing.T) {
	eng := startCharging(t, temporal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := client.Start(ctx, eng, chargedTimeout, struct{}{})
	require.NoError(t, err)
	failed, err := client.Result(ctx, eng, chargedTimeout, id)
	require.NoError(t, err)
	assert.True(t, failed)
	st, err := eng.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, charged(1), st.Usage, "the first attempt's; the timed-out one reported nothing in time")
}

// TestHistoryWithUsageReplays: a history whose results carry usage (and
// whose end records it in the memo) replays against the code that wrote
// it, and its export shows the usage in the results' metadata.
func TestHistoryWithUsageReplays(t *testing.T) {
	eng := startCharging(t, temporal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := client.Start(ctx, eng, chargedFanOut, 3)
	require.NoError(t, err)
	_, err = client.Result(ctx, eng, chargedFanOut, id)
	require.NoError(t, err)
	h, err := eng.History(ctx, id)
	require.NoError(t, err)
	require.NoError(t, temporal.ReplayHistory(h, temporal.ReplayOptions{}, chargedFanOut))
	var buf strings.Builder
	require.NoError(t, eng.ExportHistory(ctx, id, &buf))
	assert.Contains(t, buf.String(), `"cloudbutton-usage"`, "each result's usage, in its payload's metadata")
	assert.Contains(t, buf.String(), `"cloudbutton.status"`, "the total, in the memo")
}
