package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/worker"
)

func testFanOutFanIn(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(fanOut)
		w.RegisterActivities(double)
	})
	for _, n := range []int{0, 1, 50} {
		id, err := client.Start(ctx, c, fanOut, n)
		require.NoError(t, err)
		got, err := client.Result(ctx, c, fanOut, id)
		require.NoError(t, err)
		assert.Equal(t, n*(n-1), got, "sum of 2i for i < %d", n)
	}
}

func testChain(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(chain)
		w.RegisterActivities(addOne)
	})
	id, err := client.Start(ctx, c, chain, 10)
	require.NoError(t, err)
	got, err := client.Result(ctx, c, chain, id)
	require.NoError(t, err)
	assert.Equal(t, 10, got)
}

func testRetries(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(retrying)
		w.RegisterActivities(flaky)
	})
	id, err := client.Start(ctx, c, retrying, struct{}{})
	require.NoError(t, err)
	got, err := client.Result(ctx, c, retrying, id)
	require.NoError(t, err)
	assert.Equal(t, 3, got.Attempt, "the third attempt succeeds")
}

func testNonRetryable(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(nonRetrying)
		w.RegisterActivities(fatal)
	})
	for _, typ := range []string{"NonRetryable", "Listed"} {
		t.Run(typ, func(t *testing.T) {
			id, err := client.Start(ctx, c, nonRetrying, typ)
			require.NoError(t, err)
			got, err := client.Result(ctx, c, nonRetrying, id)
			require.NoError(t, err)
			assert.Equal(t, typ, got.ErrType)
			n, ok := attempts.Load(id)
			require.True(t, ok, "the activity ran")
			mu.Lock()
			assert.Equal(t, 1, *n.(*int), "a non-retryable failure is not retried")
			mu.Unlock()
		})
	}
}

func testTimers(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(timers) })
	id, err := client.Start(ctx, c, timers, struct{}{})
	require.NoError(t, err)
	got, err := client.Result(ctx, c, timers, id)
	require.NoError(t, err)
	assert.Equal(t, 1, got, "the short timer fires first")
}

func customStatus(ctx context.Context, c client.Client, id string) string {
	st, err := c.Status(ctx, id)
	if err != nil || len(st.CustomStatus) == 0 {
		return ""
	}
	var s string
	_ = json.Unmarshal(st.CustomStatus, &s)
	return s
}

func testEventsWithTimeout(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(eventWaiter) })
	id, err := client.Start(ctx, c, eventWaiter, struct{}{})
	require.NoError(t, err)
	eventually(t, "custom status waiting-2", func() bool { return customStatus(ctx, c, id) == "waiting-2" })
	require.NoError(t, client.RaiseEvent(ctx, c, id, "go", 42))
	got, err := client.Result(ctx, c, eventWaiter, id)
	require.NoError(t, err)
	assert.Equal(t, 42, got)
}

func testBufferedEvents(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(eventCollector) })
	id, err := client.Start(ctx, c, eventCollector, 3)
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, client.RaiseEvent(ctx, c, id, "item", i+10))
	}
	require.NoError(t, client.RaiseEvent(ctx, c, id, "ready", struct{}{}))
	got, err := client.Result(ctx, c, eventCollector, id)
	require.NoError(t, err)
	assert.Equal(t, []int{10, 11, 12}, got, "events are delivered in order")
}

func testSubOrchestrations(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(parent, child)
		w.RegisterActivities(double)
	})
	id, err := client.Start(ctx, c, parent, 3)
	require.NoError(t, err)
	got, err := client.Result(ctx, c, parent, id)
	require.NoError(t, err)
	assert.Equal(t, parentOut{Sum: 7 + 9, ChildType: "Negative"}, got)
	st, err := c.Status(ctx, id+"-named-child")
	require.NoError(t, err, "the child with an explicit instance id exists")
	assert.Equal(t, id, st.ParentInstanceID)
	assert.Equal(t, client.StatusCompleted, st.RuntimeStatus)
}

func testContinueAsNew(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(counter)
		w.RegisterActivities(addOne)
	})
	id, err := client.Start(ctx, c, counter, canIn{N: 0, Limit: 4})
	require.NoError(t, err)
	got, err := client.Result(ctx, c, counter, id)
	require.NoError(t, err)
	assert.Equal(t, canOut{N: 4, Generation: 3}, got)
}

func testTerminate(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(saga)
		w.RegisterActivities(book, compensate)
	})
	id, err := client.Start(ctx, c, saga, struct{}{})
	require.NoError(t, err)
	eventually(t, "custom status booked", func() bool { return customStatus(ctx, c, id) == "booked" })
	require.NoError(t, c.Terminate(ctx, id, "test says stop"))
	st, err := c.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusTerminated, st.RuntimeStatus)
	_, ok := compensated.Load(id)
	assert.True(t, ok, "the compensation ran before the instance ended")
	assert.ErrorIs(t, c.Terminate(ctx, id, "again"), client.ErrNotRunning)
	assert.ErrorIs(t, c.Terminate(ctx, "no-such-instance-"+id, "x"), client.ErrNotFound)
}

func testTerminateReachesChildren(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(parentOfForever, childForever) })
	id, err := client.Start(ctx, c, parentOfForever, struct{}{})
	require.NoError(t, err)
	childID := id + "-child"
	eventually(t, "the child is running", func() bool {
		st, err := c.Status(ctx, childID)
		return err == nil && st.RuntimeStatus == client.StatusRunning && customStatus(ctx, c, id) == "started child"
	})
	require.NoError(t, c.Terminate(ctx, id, "stop the family"))
	st, err := c.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusTerminated, st.RuntimeStatus)
	st, err = c.Wait(ctx, childID)
	require.NoError(t, err)
	assert.Equal(t, client.StatusTerminated, st.RuntimeStatus, "terminate reaches the child")
}

func testVersioning(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(versioned) })
	id, err := client.Start(ctx, c, versioned, struct{}{})
	require.NoError(t, err)
	got, err := client.Result(ctx, c, versioned, id)
	require.NoError(t, err)
	assert.Equal(t, 2, got, "a new instance gets maxSupported")
}

func testPanics(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(panicky, callsPanicky)
		w.RegisterActivities(panickyActivity)
	})
	id, err := client.Start(ctx, c, panicky, struct{}{})
	require.NoError(t, err)
	st, err := c.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusFailed, st.RuntimeStatus)
	require.NotNil(t, st.Failure)
	assert.Equal(t, "Panic", st.Failure.Type)
	assert.Contains(t, st.Failure.Message, "boom in orchestrator")

	id, err = client.Start(ctx, c, callsPanicky, struct{}{})
	require.NoError(t, err)
	got, err := client.Result(ctx, c, callsPanicky, id)
	require.NoError(t, err)
	assert.Equal(t, "recovered", got)
}

func testPayloadErrors(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(payloads, fanOut)
		w.RegisterActivities(double)
	})
	id, err := client.Start(ctx, c, payloads, struct{}{})
	require.NoError(t, err)
	got, err := client.Result(ctx, c, payloads, id)
	require.NoError(t, err)
	assert.Equal(t, "DecodeError", got.ActivityInputErr)
	assert.True(t, got.TooLarge, "an oversized input fails with codec.ErrPayloadTooLarge")

	// An orchestration input that does not decode into its type.
	id, err = c.StartRaw(ctx, fanOut.Name(), []byte(`"not an int"`), client.StartOptions{})
	require.NoError(t, err)
	st, err := c.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusFailed, st.RuntimeStatus)
	require.NotNil(t, st.Failure)
	assert.Equal(t, "DecodeError", st.Failure.Type)
}

func testUnknownActivity(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(callsUnknown) })
	id, err := client.Start(ctx, c, callsUnknown, struct{}{})
	require.NoError(t, err)
	got, err := client.Result(ctx, c, callsUnknown, id)
	require.NoError(t, err)
	assert.Equal(t, "not found", got)
}

func testUnknownOrchestrator(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(idle) })
	// Accepted, and left waiting for a worker that hosts it: never failed
	// by one that does not (a rolling deploy, several fleets).
	id, err := c.StartRaw(ctx, "no-such-orchestrator", []byte(`null`), client.StartOptions{})
	require.NoError(t, err)
	neverTerminal(t, ctx, c, id)
	if reason := e.Unsupported(FeatureBlockedStatus); reason != "" {
		t.Logf("Status.Blocked not checked: %s", reason)
		return
	}
	st, err := c.Status(ctx, id)
	require.NoError(t, err)
	assert.Contains(t, st.Blocked, `"no-such-orchestrator" is not registered`, "the status says why it waits")
}

func testDeterministic(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(deterministic)
		w.RegisterActivities(double)
	})
	id, err := client.Start(ctx, c, deterministic, struct{}{})
	require.NoError(t, err)
	got, err := client.Result(ctx, c, deterministic, id)
	require.NoError(t, err)
	assert.NotEqual(t, got.UUID1, got.UUID2)
	assert.Len(t, got.UUID1, 36)
	assert.Equal(t, 7, got.Side)
	assert.False(t, got.Now.IsZero())
}

func testClientOperations(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(idle) })
	id := fmt.Sprintf("client-ops-%d", time.Now().UnixNano())
	got, err := client.Start(ctx, c, idle, "in-", client.WithInstanceID(id))
	require.NoError(t, err)
	require.Equal(t, id, got)

	_, err = client.Start(ctx, c, idle, "again", client.WithInstanceID(id))
	assert.ErrorIs(t, err, client.ErrAlreadyExists, "a live instance id is refused")

	st, err := c.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, idle.Name(), st.Name)
	assert.JSONEq(t, `"in-"`, string(st.Input))
	assert.False(t, st.RuntimeStatus.Terminal())

	list, err := c.List(ctx, client.Filter{Name: idle.Name()})
	require.NoError(t, err)
	assert.True(t, containsID(list, id), "List finds the running instance")

	require.NoError(t, client.RaiseEvent(ctx, c, id, "finish", "out"))
	out, err := client.Result(ctx, c, idle, id)
	require.NoError(t, err)
	assert.Equal(t, "in-out", out)
	st, err = c.Status(ctx, id)
	require.NoError(t, err)
	assert.JSONEq(t, `"in-out"`, string(st.Output))
	assert.False(t, st.CompletedAt.IsZero())

	err = client.RaiseEvent(ctx, c, id, "finish", "late")
	assert.ErrorIs(t, err, client.ErrNotRunning)
	_, err = c.Status(ctx, "no-such-"+id)
	assert.ErrorIs(t, err, client.ErrNotFound)

	eventually(t, "List shows the instance completed", func() bool {
		l, err := c.List(ctx, client.Filter{Name: idle.Name(), Statuses: []client.RuntimeStatus{client.StatusCompleted}})
		return err == nil && containsID(l, id)
	})

	var buf bytes.Buffer
	require.NoError(t, c.ExportHistory(ctx, id, &buf))
	assert.True(t, json.Valid(buf.Bytes()), "the history is JSON")
	assert.NotEmpty(t, buf.Len())

	// A finished id is reused by default.
	_, err = client.Start(ctx, c, idle, "second-", client.WithInstanceID(id))
	require.NoError(t, err)
	require.NoError(t, client.RaiseEvent(ctx, c, id, "finish", "run"))
	out, err = client.Result(ctx, c, idle, id)
	require.NoError(t, err)
	assert.Equal(t, "second-run", out)

	if reason := e.Unsupported(FeaturePurge); reason != "" {
		t.Logf("purge skipped: %s", reason)
		return
	}
	require.NoError(t, c.Purge(ctx, id))
	eventually(t, "the purged instance is gone", func() bool {
		_, err := c.Status(ctx, id)
		return errors.Is(err, client.ErrNotFound)
	})
}

func containsID(list []*client.Status, id string) bool {
	for _, s := range list {
		if s.InstanceID == id {
			return true
		}
	}
	return false
}

func testSuspendResume(t *testing.T, e Engine) {
	if reason := e.Unsupported(FeatureSuspend); reason != "" {
		t.Skip(reason)
	}
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(idle) })
	id, err := client.Start(ctx, c, idle, "s-")
	require.NoError(t, err)
	require.NoError(t, c.Suspend(ctx, id, "pause"))
	eventually(t, "the instance is suspended", func() bool {
		st, err := c.Status(ctx, id)
		return err == nil && st.RuntimeStatus == client.StatusSuspended
	})
	require.NoError(t, client.RaiseEvent(ctx, c, id, "finish", "r"))
	require.NoError(t, c.Resume(ctx, id, "go on"))
	out, err := client.Result(ctx, c, idle, id)
	require.NoError(t, err)
	assert.Equal(t, "s-r", out)
}
