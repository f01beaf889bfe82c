package conformance

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// suspendGates hold the first step of a suspendTwoSteps instance, by
// instance id, and count its second steps.
var suspendGates sync.Map // instance id -> *suspendGate

type suspendGate struct {
	started chan struct{} // closed when the first step starts
	release chan struct{} // closed by the test: the first step returns
	second  chan struct{} // closed when the second step runs
}

func suspendGateFor(id string) *suspendGate {
	g, _ := suspendGates.LoadOrStore(id, &suspendGate{
		started: make(chan struct{}), release: make(chan struct{}), second: make(chan struct{})})
	return g.(*suspendGate)
}

var suspendFirst = activity.New("suspend-first", func(ctx context.Context, id string) (string, error) {
	g := suspendGateFor(id)
	closeOnce(g.started)
	select {
	case <-g.release:
		return "first", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
})

var suspendSecond = activity.New("suspend-second", func(ctx context.Context, id string) (string, error) {
	closeOnce(suspendGateFor(id).second)
	return "second", nil
})

var suspendTwoSteps = orchestration.New("suspend-two-steps", func(ctx orchestration.Context, _ struct{}) (string, error) {
	id := ctx.Info().InstanceID
	a, err := orchestration.Call(ctx, suspendFirst, id).Await(ctx)
	if err != nil {
		return "", err
	}
	b, err := orchestration.Call(ctx, suspendSecond, id).Await(ctx)
	return a + "+" + b, err
})

var closeMu sync.Mutex

func closeOnce(ch chan struct{}) {
	closeMu.Lock()
	defer closeMu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// testSuspendHoldsSteps: a suspended instance takes no step, though its
// running activity completes; Status and List say Suspended; suspending
// twice, or resuming an instance that is not suspended, is ErrNotRunning;
// Resume goes on with the result that came meanwhile; Terminate ends a
// suspended instance.
func testSuspendHoldsSteps(t *testing.T, e Engine) {
	if reason := e.Unsupported(FeatureSuspend); reason != "" {
		t.Skip(reason)
	}
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(suspendTwoSteps, idle)
		w.RegisterActivities(suspendFirst, suspendSecond)
	})
	id, err := client.Start(ctx, c, suspendTwoSteps, struct{}{})
	require.NoError(t, err)
	g := suspendGateFor(id)
	select {
	case <-g.started:
	case <-ctx.Done():
		t.Fatal("the first step did not start")
	}
	require.ErrorIs(t, c.Resume(ctx, id, "not suspended"), client.ErrNotRunning)

	require.NoError(t, c.Suspend(ctx, id, "hold"))
	eventually(t, "the instance is suspended", func() bool {
		st, err := c.Status(ctx, id)
		return err == nil && st.RuntimeStatus == client.StatusSuspended
	})
	require.ErrorIs(t, c.Suspend(ctx, id, "again"), client.ErrNotRunning)
	suspended, err := c.List(ctx, client.Filter{Statuses: []client.RuntimeStatus{client.StatusSuspended}})
	require.NoError(t, err)
	assert.True(t, listsID(suspended, id), "List(Suspended) has the instance")
	running, err := c.List(ctx, client.Filter{Statuses: []client.RuntimeStatus{client.StatusRunning}})
	require.NoError(t, err)
	assert.False(t, listsID(running, id), "List(Running) leaves it out")

	close(g.release) // the running step completes while suspended
	select {
	case <-g.second:
		t.Fatal("a suspended instance took a step")
	case <-time.After(500 * time.Millisecond): // bounded check: it may only miss a step, never fail wrongly
	}
	require.NoError(t, c.Resume(ctx, id, "go on"))
	out, err := client.Result(ctx, c, suspendTwoSteps, id)
	require.NoError(t, err)
	assert.Equal(t, "first+second", out)
	require.ErrorIs(t, c.Resume(ctx, id, "finished"), client.ErrNotRunning)
	require.ErrorIs(t, c.Suspend(ctx, id, "finished"), client.ErrNotRunning)

	held, err := client.Start(ctx, c, idle, "t-")
	require.NoError(t, err)
	require.NoError(t, c.Suspend(ctx, held, "hold"))
	require.NoError(t, c.Terminate(ctx, held, "end it"))
	st, err := c.Wait(ctx, held)
	require.NoError(t, err)
	assert.Equal(t, client.StatusTerminated, st.RuntimeStatus)
}

func listsID(sts []*client.Status, id string) bool {
	return slices.ContainsFunc(sts, func(s *client.Status) bool { return s.InstanceID == id })
}
