package temporal_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/activityctx"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var hang = activity.New("hang", func(ctx context.Context, _ struct{}) (int, error) {
	<-ctx.Done()
	return 0, ctx.Err()
})

var callsHang = orchestration.New("calls-hang", func(ctx orchestration.Context, _ struct{}) (string, error) {
	_, err := orchestration.Call(ctx, hang, struct{}{}, orchestration.WithStartToCloseTimeout(300*time.Millisecond)).Await(ctx)
	if !errors.Is(err, orchestration.ErrTimeout) {
		return "", errors.New("want ErrTimeout, got " + errString(err))
	}
	return "timed out", nil
})

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

func TestActivityTimeout(t *testing.T) {
	eng := openEngine(t, temporal.Options{})
	startWorker(t, eng, func(w *worker.Worker) {
		w.RegisterOrchestrators(callsHang)
		w.RegisterActivities(hang)
	})
	ctx := testCtx(t)
	id, err := client.Start(ctx, eng, callsHang, struct{}{})
	require.NoError(t, err)
	got, err := client.Result(ctx, eng, callsHang, id)
	require.NoError(t, err)
	assert.Equal(t, "timed out", got)
}

// carrier continues as new once, keeping the events it did not consume.
var carrier = orchestration.New("carrier", func(ctx orchestration.Context, gen int) ([]string, error) {
	if gen == 0 {
		if _, err := orchestration.WaitEvent[struct{}](ctx, "ready", 0).Await(ctx); err != nil {
			return nil, err
		}
		return nil, orchestration.ContinueAsNew(ctx, 1, orchestration.KeepUnprocessedEvents())
	}
	var out []string
	for range 2 {
		v, err := orchestration.WaitEvent[string](ctx, "item", 0).Await(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
})

func TestContinueAsNewKeepsEvents(t *testing.T) {
	eng := openEngine(t, temporal.Options{})
	startWorker(t, eng, func(w *worker.Worker) { w.RegisterOrchestrators(carrier) })
	ctx := testCtx(t)
	id, err := client.Start(ctx, eng, carrier, 0)
	require.NoError(t, err)
	require.NoError(t, client.RaiseEvent(ctx, eng, id, "item", "a"))
	require.NoError(t, client.RaiseEvent(ctx, eng, id, "item", "b"))
	require.NoError(t, client.RaiseEvent(ctx, eng, id, "ready", struct{}{}))
	got, err := client.Result(ctx, eng, carrier, id)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, got)
}

func TestClosedEngine(t *testing.T) {
	eng := openEngine(t, temporal.Options{})
	require.NoError(t, eng.Close())
	require.NoError(t, eng.Close(), "Close is idempotent")
	_, err := eng.Status(testCtx(t), "x")
	assert.ErrorIs(t, err, client.ErrEngineClosed)
}

// slowRemote stands for a remote FaaS invoker: it cannot heartbeat
// itself, so the engine heartbeats for it.
type slowRemote struct {
	mu   sync.Mutex
	reqs []faas.Request
}

func (s *slowRemote) Invoke(ctx context.Context, req faas.Request) ([]byte, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	select {
	case <-time.After(1500 * time.Millisecond):
		return []byte(`"done"`), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

var remoteCall = orchestration.New("remote-call", func(ctx orchestration.Context, _ struct{}) (string, error) {
	return orchestration.CallNamed[int, string](ctx, "remote-fn", 1, orchestration.WithHeartbeatTimeout(500*time.Millisecond)).Await(ctx)
})

func TestRemoteInvokerHeartbeats(t *testing.T) {
	eng := openEngine(t, temporal.Options{})
	inv := &slowRemote{}
	w := worker.New(eng, worker.Options{Invoker: inv, Logger: quietLogger()})
	w.RegisterOrchestrators(remoteCall)
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() { _ = w.Stop(context.Background()) })
	ctx := testCtx(t)
	id, err := client.Start(ctx, eng, remoteCall, struct{}{})
	require.NoError(t, err)
	got, err := client.Result(ctx, eng, remoteCall, id)
	require.NoError(t, err, "automatic heartbeats keep a long invocation alive past its heartbeat timeout")
	assert.Equal(t, "done", got)
	inv.mu.Lock()
	defer inv.mu.Unlock()
	require.Len(t, inv.reqs, 1)
	r := inv.reqs[0]
	assert.Equal(t, "remote-fn", r.Activity)
	assert.Equal(t, id, r.InstanceID)
	assert.Equal(t, int64(1), r.TaskID)
	assert.Equal(t, 1, r.Attempt)
	assert.NotEmpty(t, r.RunID)
	assert.Equal(t, activityctx.IdempotencyKey(id, r.RunID, 1, 1), r.IdempotencyKey)
	assert.JSONEq(t, `1`, string(r.Input))
}

// TestUnknownOrchestratorWaits: an instance of a name no worker hosts is
// started, from any client, and waits; its status says why (before, the
// client refused it, or a worker failed it as OrchestratorNotFound).
func TestUnknownOrchestratorWaits(t *testing.T) {
	eng := openEngine(t, temporal.Options{})
	startWorker(t, eng, func(w *worker.Worker) { w.RegisterOrchestrators(greeter) })
	ctx := testCtx(t)
	clientOnly := openEngine(t, temporal.Options{TaskQueue: eng.Options().TaskQueue})
	for _, c := range []*temporal.Engine{eng, clientOnly} {
		id, err := c.StartRaw(ctx, "no-such-orchestrator", []byte(`null`), client.StartOptions{})
		require.NoError(t, err)
		var st *client.Status
		require.Eventually(t, func() bool {
			st, err = c.Status(ctx, id)
			return err == nil && st.Blocked != ""
		}, 30*time.Second, 50*time.Millisecond)
		assert.Equal(t, client.StatusRunning, st.RuntimeStatus)
		assert.Contains(t, st.Blocked, `"no-such-orchestrator" is not registered`)
		assert.Contains(t, st.Blocked, "greeter", "the status lists the names registered there")
	}
}

var progressing = orchestration.New("progressing", func(ctx orchestration.Context, n int) (int, error) {
	fs := make([]orchestration.Future[int], n)
	for i := range fs {
		fs[i] = orchestration.Call(ctx, square, i)
	}
	if _, err := orchestration.All(ctx, fs...).Await(ctx); err != nil {
		return 0, err
	}
	if err := orchestration.SetCustomStatus(ctx, "waiting"); err != nil {
		return 0, err
	}
	return orchestration.WaitEvent[int](ctx, "go", 0).Await(ctx)
})

// TestStatusProgressAndFinalCustomStatus: a live orchestration reports
// its custom status and activity progress through a query; a closed one
// keeps its last custom status in the memo, readable with no worker.
func TestStatusProgressAndFinalCustomStatus(t *testing.T) {
	eng := openEngine(t, temporal.Options{})
	w := worker.New(eng, worker.Options{Logger: quietLogger()})
	w.RegisterOrchestrators(progressing)
	w.RegisterActivities(square)
	require.NoError(t, w.Start(context.Background()))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = w.Stop(context.Background())
		}
	})
	ctx := testCtx(t)
	id, err := client.Start(ctx, eng, progressing, 4)
	require.NoError(t, err)
	var st *client.Status
	deadline := time.Now().Add(time.Minute)
	for {
		st, err = eng.Status(ctx, id)
		require.NoError(t, err)
		if string(st.CustomStatus) == `"waiting"` || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	assert.JSONEq(t, `"waiting"`, string(st.CustomStatus))
	assert.Equal(t, 4, st.ActivitiesTotal)
	assert.Equal(t, 4, st.ActivitiesDone)

	require.NoError(t, client.RaiseEvent(ctx, eng, id, "go", 5))
	got, err := client.Result(ctx, eng, progressing, id)
	require.NoError(t, err)
	assert.Equal(t, 5, got)

	require.NoError(t, w.Stop(ctx))
	stopped = true
	st, err = eng.Status(ctx, id)
	require.NoError(t, err)
	assert.JSONEq(t, `"waiting"`, string(st.CustomStatus), "read from the memo, with no worker running")
	assert.Equal(t, 4, st.ActivitiesDone)
}
