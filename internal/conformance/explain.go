package conformance

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// FeatureExplainEvents: Explain names the external events the code waits
// for (on Temporal the workflow's code state is not visible to clients).
const FeatureExplainEvents Feature = "explain-events"

// FeatureSuspendReason: Explain gives the reason passed to Suspend (the
// embedded store does not keep it).
const FeatureSuspendReason Feature = "suspend-reason"

// WorkerStopper is implemented by engines whose worker the suite can stop
// while instances live; cases that need it are skipped on engines without
// it.
type WorkerStopper interface {
	// StopWorker stops the worker(s) serving c (a client returned by
	// Start); nothing runs its instances after it returns.
	StopWorker(t *testing.T, c client.Client)
}

// explainCases are the cases of client.Explain.
var explainCases = []struct {
	name string
	fn   func(*testing.T, Engine)
}{
	{"ExplainEventWait", testExplainEventWait},
	{"ExplainRetry", testExplainRetry},
	{"ExplainTimer", testExplainTimer},
	{"ExplainSubOrchestration", testExplainSubOrchestration},
	{"ExplainNoWorker", testExplainNoWorker},
	{"ExplainUnknownName", testExplainUnknownName},
	{"ExplainSuspended", testExplainSuspended},
	{"ExplainUnknownInstance", testExplainUnknownInstance},
}

// farOff is a delay the harness's virtual clock does not jump over (it
// only moves to timers within 50 years), so timers and back-offs of it
// stay pending on every engine for the test's life.
const farOff = 60 * 365 * 24 * time.Hour

// explained polls Explain until a wait of kind is listed, and returns the
// explanation and that wait.
func explained(t *testing.T, ctx context.Context, c client.Client, id string, kind client.WaitKind) (*client.Explanation, client.Wait) {
	t.Helper()
	var x *client.Explanation
	var found client.Wait
	eventually(t, fmt.Sprintf("a %s wait of %q", kind, id), func() bool {
		var err error
		x, err = client.Explain(ctx, c, id)
		require.NoError(t, err)
		for _, w := range x.Waits {
			if w.Kind == kind {
				found = w
				return true
			}
		}
		return false
	})
	assert.NotEmpty(t, found.Summary)
	assert.Contains(t, x.Summary, found.Summary, "the explanation's summary has the wait's")
	return x, found
}

// testExplainEventWait: an instance blocked in WaitEvent is waiting for
// that event, since the step that began the wait; once it ends, it waits
// on nothing.
func testExplainEventWait(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(idle) })
	before := time.Now().Add(-time.Minute) // the harness's clock began at the test's start
	id, err := client.Start(ctx, c, idle, "in-")
	require.NoError(t, err)
	if why := e.Unsupported(FeatureExplainEvents); why != "" {
		t.Logf("event waits not checked: %s", why)
	} else {
		x, w := explained(t, ctx, c, id, client.WaitEvent)
		assert.Equal(t, "finish", w.Name)
		assert.True(t, w.Since.After(before), "since the wait began: %s", w.Since)
		assert.Contains(t, w.Summary, `waiting for the event "finish" since `)
		assert.Equal(t, client.StatusRunning, x.RuntimeStatus)
	}
	require.NoError(t, client.RaiseEvent(ctx, c, id, "finish", "out"))
	_, err = client.Result(ctx, c, idle, id)
	require.NoError(t, err)
	x, err := client.Explain(ctx, c, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusCompleted, x.RuntimeStatus)
	assert.Empty(t, x.Waits, "a finished instance waits on nothing")
}

// failsFirst fails its first attempt; its later attempts block until
// their context ends.
var failsFirst = activity.New("fails-first", func(ctx context.Context, _ struct{}) (struct{}, error) {
	if info, _ := activity.InfoFrom(ctx); info.Attempt == 1 {
		return struct{}{}, activity.NewError("Transient", "the charge was declined")
	}
	<-ctx.Done()
	return struct{}{}, ctx.Err()
})

// retriedFarOff calls failsFirst with five attempts and a back-off of
// farOff: its second attempt stays due for the test's life.
var retriedFarOff = orchestration.New("retried-far-off", func(ctx orchestration.Context, _ struct{}) (struct{}, error) {
	return orchestration.Call(ctx, failsFirst, struct{}{}, orchestration.WithRetry(orchestration.RetryPolicy{
		MaxAttempts: 5, InitialInterval: farOff, MaxInterval: farOff})).Await(ctx)
})

// testExplainRetry: an activity that failed and waits out its back-off is
// at attempt 2 of 5, failing with its last failure, next tried at the
// retry's due time.
func testExplainRetry(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(retriedFarOff)
		w.RegisterActivities(failsFirst)
	})
	id, err := client.Start(ctx, c, retriedFarOff, struct{}{})
	require.NoError(t, err)
	var w client.Wait
	eventually(t, "the retry's explanation", func() bool {
		_, w = explained(t, ctx, c, id, client.WaitActivity)
		return w.LastFailure != nil
	})
	assert.Equal(t, "fails-first", w.Name)
	assert.Equal(t, 2, w.Attempt)
	assert.Equal(t, 5, w.MaxAttempts)
	assert.False(t, w.Running)
	assert.Equal(t, "the charge was declined", w.LastFailure.Message)
	assert.True(t, w.Until.After(time.Now().Add(farOff/2)), "next try after the back-off: %s", w.Until)
	assert.Contains(t, w.Summary, `activity "fails-first" attempt 2 of 5, failing with "the charge was declined", next try at `)
	require.NoError(t, c.Terminate(ctx, id, "done"))
}

var sleepsFarOff = orchestration.New("sleeps-far-off", func(ctx orchestration.Context, _ struct{}) (struct{}, error) {
	return struct{}{}, orchestration.Sleep(ctx, farOff)
})

// testExplainTimer: an instance asleep waits for a timer due at its end.
func testExplainTimer(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(sleepsFarOff) })
	id, err := client.Start(ctx, c, sleepsFarOff, struct{}{})
	require.NoError(t, err)
	_, w := explained(t, ctx, c, id, client.WaitTimer)
	assert.True(t, w.Until.After(time.Now().Add(farOff/2)), "due at the sleep's end: %s", w.Until)
	assert.Contains(t, w.Summary, "a timer due at ")
	require.NoError(t, c.Terminate(ctx, id, "done"))
}

// testExplainSubOrchestration: a parent blocked on a child says so, and
// why the child is stuck: its wait for an event.
func testExplainSubOrchestration(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(parentOfForever, childForever) })
	id, err := client.Start(ctx, c, parentOfForever, struct{}{})
	require.NoError(t, err)
	_, w := explained(t, ctx, c, id, client.WaitSubOrchestration)
	assert.Equal(t, id+"-child", w.InstanceID)
	assert.Equal(t, "child-forever", w.Name)
	if why := e.Unsupported(FeatureExplainEvents); why != "" {
		t.Logf("the child's event wait not checked: %s", why)
	} else {
		eventually(t, "the child's explanation", func() bool {
			_, w = explained(t, ctx, c, id, client.WaitSubOrchestration)
			return w.Child != nil && len(w.Child.Waits) > 0 && w.Child.Waits[0].Kind == client.WaitEvent
		})
		assert.Equal(t, "never", w.Child.Waits[0].Name)
		assert.Contains(t, w.Summary, `blocked on sub-orchestration "`+id+`-child" (child-forever): waiting for the event "never"`)
	}
	require.NoError(t, c.Terminate(ctx, id, "done"))
}

// testExplainNoWorker: once the worker stops, a live instance waits for
// one.
func testExplainNoWorker(t *testing.T, e Engine) {
	s, ok := e.(WorkerStopper)
	if !ok {
		t.Skip("the engine's worker cannot be stopped by the suite")
	}
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(idle) })
	id, err := client.Start(ctx, c, idle, "in-")
	require.NoError(t, err)
	eventually(t, "the instance running", func() bool {
		st, err := c.Status(ctx, id)
		require.NoError(t, err)
		return st.RuntimeStatus == client.StatusRunning
	})
	x, err := client.Explain(ctx, c, id)
	require.NoError(t, err)
	for _, w := range x.Waits {
		assert.NotEqual(t, client.WaitWorker, w.Kind, "a worker runs: %+v", x)
	}
	s.StopWorker(t, c)
	_, w := explained(t, ctx, c, id, client.WaitWorker)
	assert.Contains(t, w.Summary, "no worker running")
}

// testExplainUnknownName: an instance of an orchestrator no worker
// registers waits for one that does, and says which name.
func testExplainUnknownName(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(idle) })
	id, err := c.StartRaw(ctx, "no-such-orchestrator", []byte(`null`), client.StartOptions{})
	require.NoError(t, err)
	_, w := explained(t, ctx, c, id, client.WaitUnknownName)
	assert.Equal(t, "no-such-orchestrator", w.Name)
	assert.Contains(t, w.Summary, `the worker does not know the orchestrator "no-such-orchestrator"`)
}

// testExplainSuspended: a suspended instance says since when first.
func testExplainSuspended(t *testing.T, e Engine) {
	if why := e.Unsupported(FeatureSuspend); why != "" {
		t.Skip(why)
	}
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(idle) })
	id, err := client.Start(ctx, c, idle, "in-")
	require.NoError(t, err)
	require.NoError(t, c.Suspend(ctx, id, "maintenance"))
	x, w := explained(t, ctx, c, id, client.WaitSuspended)
	assert.Equal(t, client.WaitSuspended, x.Waits[0].Kind, "the suspension comes first: %+v", x.Waits)
	assert.False(t, w.Since.IsZero())
	assert.Contains(t, w.Summary, "suspended since ")
	if why := e.Unsupported(FeatureSuspendReason); why != "" {
		t.Logf("the reason not checked: %s", why)
	} else {
		assert.Equal(t, "maintenance", w.Reason)
		assert.Contains(t, w.Summary, ": maintenance")
	}
	require.NoError(t, c.Resume(ctx, id, "back"))
	require.NoError(t, client.RaiseEvent(ctx, c, id, "finish", "out"))
	_, err = client.Result(ctx, c, idle, id)
	require.NoError(t, err)
}

func testExplainUnknownInstance(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(idle) })
	_, err := client.Explain(ctx, c, "no-such-instance")
	assert.True(t, errors.Is(err, client.ErrNotFound), "%v", err)
}
