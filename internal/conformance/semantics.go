package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Engine semantics that users bet on: no event lost or reordered across
// continue-as-new, durable retries, terminate that stops work.

// tickIn is the state a tick consumer carries from generation to
// generation.
type tickIn struct {
	Want int
	Got  []string
}

// tickConsumer takes one "tick" event per generation and continues as new
// keeping the events it has not consumed, until it has Want of them.
var tickConsumer = orchestration.New("tick-consumer", func(ctx orchestration.Context, in tickIn) ([]string, error) {
	if len(in.Got) == in.Want {
		return in.Got, nil
	}
	v, err := orchestration.WaitEvent[string](ctx, "tick", 0).Await(ctx)
	if err != nil {
		return nil, err
	}
	in.Got = append(in.Got, v)
	return nil, orchestration.ContinueAsNew(ctx, in, orchestration.KeepUnprocessedEvents())
})

// testContinueAsNewKeepsEvents raises events in order while instances
// switch generations: every event arrives once, in order.
func testContinueAsNewKeepsEvents(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(tickConsumer) })
	const instances, events = 50, 10
	ids := make([]string, instances)
	for i := range ids {
		id, err := client.Start(ctx, c, tickConsumer, tickIn{Want: events})
		require.NoError(t, err)
		ids[i] = id
	}
	var g errgroup.Group
	for _, id := range ids {
		g.Go(func() error {
			for j := range events {
				if err := client.RaiseEvent(ctx, c, id, "tick", fmt.Sprintf("tick-%d", j)); err != nil {
					return fmt.Errorf("raise tick-%d to %s: %w", j, id, err)
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	want := make([]string, events)
	for j := range want {
		want[j] = fmt.Sprintf("tick-%d", j)
	}
	for _, id := range ids {
		got, err := client.Result(ctx, c, tickConsumer, id)
		require.NoError(t, err, "instance %s", id)
		assert.Equal(t, want, got, "instance %s: every event once, in order", id)
	}
}

// napper waits for a "go" event, then sleeps on a durable timer and
// returns its input.
var napper = orchestration.New("napper", func(ctx orchestration.Context, d time.Duration) (time.Duration, error) {
	if _, err := orchestration.WaitEvent[struct{}](ctx, "go", 0).Await(ctx); err != nil {
		return 0, err
	}
	return d, orchestration.Sleep(ctx, d)
})

// testNotHostedLeftUntouched: a worker deployed without an orchestrator
// leaves that orchestrator's instances alone when work for them arrives
// (before, the embedded worker replayed the instance against nothing and
// failed it with [CB1100]); the worker that hosts it, deployed again,
// completes them.
func testNotHostedLeftUntouched(t *testing.T, e Engine) {
	r := redeployer(t, e)
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(napper, idle) })
	const nap = 300 * time.Millisecond
	id, err := client.Start(ctx, c, napper, nap)
	require.NoError(t, err)
	eventually(t, "the instance runs", func() bool {
		st, err := c.Status(ctx, id)
		return err == nil && st.RuntimeStatus == client.StatusRunning
	})
	r.Restart(t, c, func(w *worker.Worker) { w.RegisterOrchestrators(idle) })
	require.NoError(t, client.RaiseEvent(ctx, c, id, "go", struct{}{}))
	neverTerminal(t, ctx, c, id)
	if reason := e.Unsupported(FeatureBlockedStatus); reason == "" {
		st, err := c.Status(ctx, id)
		require.NoError(t, err)
		assert.Contains(t, st.Blocked, `"napper" is not registered`)
	}
	r.Restart(t, c, func(w *worker.Worker) { w.RegisterOrchestrators(napper, idle) })
	got, err := client.Result(ctx, c, napper, id)
	require.NoError(t, err)
	assert.Equal(t, nap, got)
	st, err := c.Status(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, st.Blocked)
}

// drAttempts records, per instance, the attempt numbers and idempotency
// keys that alwaysFails ran with, and when.
var drAttempts sync.Map // instance id -> *drLog

type drLog struct {
	mu   sync.Mutex
	keys []string
	at   []time.Time
}

func (l *drLog) snapshot() ([]string, []time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.keys...), append([]time.Time(nil), l.at...)
}

var alwaysFails = activity.New("always-fails", func(ctx context.Context, _ struct{}) (struct{}, error) {
	info, _ := activity.InfoFrom(ctx)
	v, _ := drAttempts.LoadOrStore(info.InstanceID, &drLog{})
	l := v.(*drLog)
	l.mu.Lock()
	l.keys, l.at = append(l.keys, info.IdempotencyKey), append(l.at, time.Now())
	l.mu.Unlock()
	return struct{}{}, activity.NewError("Transient", fmt.Sprintf("attempt %d fails", info.Attempt))
})

// drBackoff is long enough that three worker restarts fit in it.
const drBackoff = 3 * time.Second

var retriesOnRestart = orchestration.New("retries-on-restart", func(ctx orchestration.Context, _ struct{}) (struct{}, error) {
	return orchestration.Call(ctx, alwaysFails, struct{}{}, orchestration.WithRetry(orchestration.RetryPolicy{
		MaxAttempts: 3, InitialInterval: drBackoff, BackoffCoefficient: 1,
	})).Await(ctx)
})

// testDurableRetries: retry state survives worker restarts. Three
// restarts during the back-off neither run the attempt again at once nor
// reset its number (before, on embedded, attempt 1 ran again right after
// each restart with the same idempotency key); the activity fails after
// exactly MaxAttempts attempts, each with its own key, the back-off kept.
func testDurableRetries(t *testing.T, e Engine) {
	r := redeployer(t, e)
	ctx := testContext(t)
	register := func(w *worker.Worker) {
		w.RegisterOrchestrators(retriesOnRestart)
		w.RegisterActivities(alwaysFails)
	}
	c := e.Start(t, register)
	id, err := client.Start(ctx, c, retriesOnRestart, struct{}{})
	require.NoError(t, err)
	attempts := func() int {
		v, ok := drAttempts.Load(id)
		if !ok {
			return 0
		}
		keys, _ := v.(*drLog).snapshot()
		return len(keys)
	}
	eventually(t, "attempt 1 ran", func() bool { return attempts() >= 1 })
	for range 3 {
		r.Restart(t, c, register)
	}
	st, err := c.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusFailed, st.RuntimeStatus)
	v, _ := drAttempts.Load(id)
	keys, at := v.(*drLog).snapshot()
	require.Len(t, keys, 3, "exactly MaxAttempts attempts across restarts: %q", keys)
	task := strings.TrimSuffix(keys[0], "/1") // "<instance>/<run>/<task>"
	assert.True(t, strings.HasPrefix(task, id+"/"), "the key %q names the instance", keys[0])
	assert.Equal(t, []string{task + "/1", task + "/2", task + "/3"}, keys, "each attempt has its own idempotency key")
	if reason := e.Unsupported(FeatureWallClock); reason != "" {
		t.Logf("back-off not measured: %s", reason)
		return
	}
	for i := 1; i < len(at); i++ {
		assert.GreaterOrEqual(t, at[i].Sub(at[i-1]), drBackoff, "the back-off before attempt %d is kept across restarts", i+1)
	}
}

// The GetVersion rule, as orchestration.GetVersion documents it: an
// instance that reaches the GetVersion while replaying what it recorded
// under the old code gets DefaultVersion; one that reaches it with a new
// event, under the new code, gets maxSupported — even though it started
// before the change.

// gvOld is the code before the change: two events, one after the other.
var gvOld = orchestration.New("gv", func(ctx orchestration.Context, _ struct{}) (string, error) {
	if _, err := orchestration.WaitEvent[struct{}](ctx, "a", 0).Await(ctx); err != nil {
		return "", err
	}
	_ = orchestration.SetCustomStatus(ctx, "got-a")
	if _, err := orchestration.WaitEvent[struct{}](ctx, "b", 0).Await(ctx); err != nil {
		return "", err
	}
	return "old code", nil
})

// gvNew guards a change between the two events.
var gvNew = orchestration.New("gv", func(ctx orchestration.Context, _ struct{}) (string, error) {
	if _, err := orchestration.WaitEvent[struct{}](ctx, "a", 0).Await(ctx); err != nil {
		return "", err
	}
	_ = orchestration.SetCustomStatus(ctx, "got-a")
	v := orchestration.GetVersion(ctx, "between-a-and-b", orchestration.DefaultVersion, 1)
	if _, err := orchestration.WaitEvent[struct{}](ctx, "b", 0).Await(ctx); err != nil {
		return "", err
	}
	if v == 1 {
		return "new branch", nil
	}
	return "old branch", nil
})

func testGetVersionRule(t *testing.T, e Engine) {
	r := redeployer(t, e)
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(gvOld) })
	passed, err := client.Start(ctx, c, gvOld, struct{}{})
	require.NoError(t, err)
	before, err := client.Start(ctx, c, gvOld, struct{}{})
	require.NoError(t, err)
	require.NoError(t, client.RaiseEvent(ctx, c, passed, "a", struct{}{}))
	eventually(t, "the first instance passed the point of the change", func() bool { return customStatus(ctx, c, passed) == "got-a" })

	r.Restart(t, c, func(w *worker.Worker) { w.RegisterOrchestrators(gvNew) }) // the deploy
	require.NoError(t, client.RaiseEvent(ctx, c, before, "a", struct{}{}))
	for _, id := range []string{passed, before} {
		require.NoError(t, client.RaiseEvent(ctx, c, id, "b", struct{}{}))
	}
	got, err := client.Result(ctx, c, gvNew, passed)
	require.NoError(t, err)
	assert.Equal(t, "old branch", got, "replaying its history, the instance gets DefaultVersion")
	got, err = client.Result(ctx, c, gvNew, before)
	require.NoError(t, err)
	assert.Equal(t, "new branch", got, "reaching the GetVersion with a new event, an instance started before the change gets maxSupported")
}

// One error family: what client.Result returns matches the same way on
// every engine (and Run in the harness returns the same type).

var emBoom = activity.New("em-boom", func(ctx context.Context, _ struct{}) (struct{}, error) {
	return struct{}{}, activity.NewNonRetryableError("Boom", "it broke")
})

var emFails = orchestration.New("em-fails", func(ctx orchestration.Context, how string) (struct{}, error) {
	switch how {
	case "activity":
		return orchestration.Call(ctx, emBoom, struct{}{}).Await(ctx)
	case "wrapped":
		_, err := orchestration.Call(ctx, emBoom, struct{}{}).Await(ctx)
		return struct{}{}, fmt.Errorf("charging the card: %w", err)
	case "child":
		return orchestration.CallSub(ctx, emChild, struct{}{}).Await(ctx)
	case "timeout":
		return orchestration.WaitEvent[struct{}](ctx, "never", 10*time.Millisecond).Await(ctx)
	case "panic":
		panic("em: boom")
	}
	return orchestration.WaitEvent[struct{}](ctx, "never", 0).Await(ctx) // until terminated
})

// emChild fails with its activity's error.
var emChild = orchestration.New("em-child", func(ctx orchestration.Context, _ struct{}) (struct{}, error) {
	return orchestration.Call(ctx, emBoom, struct{}{}).Await(ctx)
})

// testErrorModel: the client's result of a failed instance matches the
// same error types, on every engine and in the harness, as the
// orchestrator saw: the *orchestration.ActivityError (naming the
// activity) or *orchestration.SubOrchestrationError (naming the child) it
// returned, the *activity.Error of the failure's type, and the sentinels.
func testErrorModel(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(emFails, emChild)
		w.RegisterActivities(emBoom)
	})
	result := func(how string, terminate bool) error {
		id, err := client.Start(ctx, c, emFails, how)
		require.NoError(t, err)
		if terminate {
			eventually(t, "the instance runs", func() bool {
				st, err := c.Status(ctx, id)
				return err == nil && st.RuntimeStatus == client.StatusRunning
			})
			require.NoError(t, c.Terminate(ctx, id, "stop"))
		}
		_, err = client.Result(ctx, c, emFails, id)
		require.Error(t, err)
		var ie *client.InstanceError
		require.ErrorAs(t, err, &ie)
		return err
	}
	err := result("activity", false)
	var ae *activity.Error
	require.ErrorAs(t, err, &ae, "an activity's error type reaches the client")
	assert.Equal(t, "Boom", ae.Type)
	assert.True(t, ae.NonRetryable)
	var aerr *orchestration.ActivityError
	require.ErrorAs(t, err, &aerr, "the client's error says an activity failed, as the orchestrator's did")
	assert.Equal(t, emBoom.Name(), aerr.Activity)
	assert.Equal(t, "Boom", aerr.Type)

	err = result("wrapped", false)
	require.ErrorAs(t, err, &aerr, "an ActivityError wrapped by the orchestrator still reaches the client")
	assert.Equal(t, emBoom.Name(), aerr.Activity)
	assert.Contains(t, err.Error(), "charging the card", "the orchestrator's words are kept")
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "Boom", ae.Type)

	err = result("child", false)
	var serr *orchestration.SubOrchestrationError
	require.ErrorAs(t, err, &serr, "the client's error says a sub-orchestration failed")
	assert.Equal(t, emChild.Name(), serr.Orchestration)
	assert.Equal(t, "Boom", serr.Type)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "Boom", ae.Type)
	assert.False(t, errors.As(err, new(*orchestration.ActivityError)), "the parent's failure came from its child, not from an activity of its own")

	assert.ErrorIs(t, result("timeout", false), orchestration.ErrTimeout)
	assert.ErrorIs(t, result("panic", false), orchestration.ErrPanic)
	assert.ErrorIs(t, result("wait", true), orchestration.ErrCanceled)
}

// tcStarts counts, per parent, the attempts of tcWork that started.
var tcStarts sync.Map

var tcWork = activity.New("tc-work", func(ctx context.Context, parent string) (struct{}, error) {
	v, _ := tcStarts.LoadOrStore(parent, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	return struct{}{}, nil
})

var tcChild = orchestration.New("tc-child", func(ctx orchestration.Context, parent string) (struct{}, error) {
	return orchestration.Call(ctx, tcWork, parent).Await(ctx)
})

var tcParent = orchestration.New("tc-parent", func(ctx orchestration.Context, _ struct{}) (struct{}, error) {
	return orchestration.CallSub(ctx, tcChild, ctx.Info().InstanceID, orchestration.WithInstanceID(ctx.Info().InstanceID+"-child")).Await(ctx)
})

// testTerminateReachesNewChildren: a parent terminated in the very step
// that creates its child (the termination was waiting for a delayed
// start) terminates that child too, before it does any work; before, a
// child not committed yet was missed, and its activity ran.
func testTerminateReachesNewChildren(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(tcParent, tcChild)
		w.RegisterActivities(tcWork)
	})
	id, err := c.StartRaw(ctx, tcParent.Name(), []byte(`{}`), client.StartOptions{StartAt: time.Now().Add(300 * time.Millisecond)})
	require.NoError(t, err)
	require.NoError(t, c.Terminate(ctx, id, "before it started"))
	st, err := c.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusTerminated, st.RuntimeStatus)
	if cst, err := c.Status(ctx, id+"-child"); err == nil {
		cst, err = c.Wait(ctx, cst.InstanceID)
		require.NoError(t, err)
		assert.Equal(t, client.StatusTerminated, cst.RuntimeStatus, "the child is terminated with its parent")
	} else {
		require.ErrorIs(t, err, client.ErrNotFound) // never created: also fine
	}
	v, _ := tcStarts.LoadOrStore(id, new(atomic.Int64))
	assert.Zero(t, v.(*atomic.Int64).Load(), "the child's activity never started")
}

type edgeOut struct {
	TooLong string
	First   int // 0: the 10-year timer, 1: the event
}

var edgeTimers = orchestration.New("edge-timers", func(ctx orchestration.Context, _ struct{}) (edgeOut, error) {
	tooLong := orchestration.Sleep(ctx, 2_500_000*time.Hour)
	if tooLong == nil {
		return edgeOut{}, errors.New("a 285-year timer was accepted")
	}
	decade := orchestration.NewTimer(ctx, 10*365*24*time.Hour)
	ev := orchestration.WaitEvent[string](ctx, "go", 0)
	i, err := orchestration.Any(ctx, decade, ev)
	return edgeOut{TooLong: tooLong.Error(), First: i}, err
})

// testTimersAtTheEdges: a 10-year timer is accepted (and, in real time,
// does not fire early); one past the limit is refused with the limit
// stated (before, on embedded, a 2,500,000 h Sleep overflowed its stored
// due time and completed at once).
func testTimersAtTheEdges(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(edgeTimers) })
	id, err := client.Start(ctx, c, edgeTimers, struct{}{})
	require.NoError(t, err)
	eventually(t, "the instance ran", func() bool {
		st, err := c.Status(ctx, id)
		return err == nil && st.RuntimeStatus != client.StatusPending
	})
	if err := client.RaiseEvent(ctx, c, id, "go", "now"); err != nil {
		require.ErrorIs(t, err, client.ErrNotRunning) // virtual time: the decade passed
	}
	got, err := client.Result(ctx, c, edgeTimers, id)
	require.NoError(t, err)
	assert.Contains(t, got.TooLong, "over the limit of 876000h0m0s (100 years)")
	if reason := e.Unsupported(FeatureWallClock); reason == "" {
		assert.Equal(t, 1, got.First, "the 10-year timer does not fire early")
	}
}
