package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Cases of the semantics both engines promise (issue 9): unknown names
// during a rolling deploy, nondeterminism detail, the sequencing rules of
// internal/core, and terminate stopping work.

// Redeployer is implemented by engines whose workers can be replaced or
// joined while instances run. Cases that need it are skipped on engines
// without it.
type Redeployer interface {
	// Restart stops the worker(s) serving c (a client returned by Start)
	// and starts one on the same store or task queue that hosts what
	// register registers. Instances in flight continue on it.
	Restart(t *testing.T, c client.Client, register func(w *worker.Worker))
	// AddWorker deploys another worker for c, as a rolling deploy does:
	// next to the running one(s), which the engine may stop once the new
	// one runs. An engine that allows one worker per store may restart
	// instead: register registers everything the new worker needs.
	AddWorker(t *testing.T, c client.Client, register func(w *worker.Worker))
}

// OptionsStarter is implemented by engines whose worker options the suite
// can set; it is Start with opts for the worker.
type OptionsStarter interface {
	StartWithOptions(t *testing.T, opts worker.Options, register func(w *worker.Worker)) client.Client
}

func redeployer(t *testing.T, e Engine) Redeployer {
	r, ok := e.(Redeployer)
	if !ok {
		t.Skip("the engine does not implement conformance.Redeployer (restart or add a worker under running instances)")
	}
	return r
}

// neverTerminal checks, for a while, that the instance stays live: it is
// accepted and waits for a worker instead of failing.
func neverTerminal(t *testing.T, ctx context.Context, c client.Client, id string) {
	t.Helper()
	for range 15 {
		st, err := c.Status(ctx, id)
		require.NoError(t, err)
		require.False(t, st.RuntimeStatus.Terminal(), "instance %q must wait for a worker that hosts it, got %s (%+v)", id, st.RuntimeStatus, st.Failure)
		time.Sleep(100 * time.Millisecond)
	}
}

// --- unknown names: a rolling deploy ---

var rdLate = orchestration.New("rd-late", func(ctx orchestration.Context, x int) (int, error) {
	return orchestration.Call(ctx, double, x).Await(ctx)
})

var rdParent = orchestration.New("rd-parent", func(ctx orchestration.Context, x int) (int, error) {
	_ = orchestration.SetCustomStatus(ctx, "calling")
	return orchestration.CallSubNamed[int, int](ctx, rdLate.Name(), x).Await(ctx)
})

// testUnknownNameRollingDeploy: a name no running worker hosts is not an
// error. The client starts it, the instance (and a child of that name)
// waits, and a worker that hosts it, deployed later, runs both.
func testUnknownNameRollingDeploy(t *testing.T, e Engine) {
	r := redeployer(t, e)
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(rdParent)
		w.RegisterActivities(double)
	})
	lateID, err := c.StartRaw(ctx, rdLate.Name(), []byte(`4`), client.StartOptions{})
	require.NoError(t, err, "the client starts a name its worker does not host")
	parentID, err := client.Start(ctx, c, rdParent, 5)
	require.NoError(t, err)
	eventually(t, "the parent calls its child", func() bool { return customStatus(ctx, c, parentID) == "calling" })
	neverTerminal(t, ctx, c, lateID)
	neverTerminal(t, ctx, c, parentID)

	r.AddWorker(t, c, func(w *worker.Worker) {
		w.RegisterOrchestrators(rdParent, rdLate)
		w.RegisterActivities(double)
	})
	got, err := client.Result(ctx, c, rdLate, lateID)
	require.NoError(t, err)
	assert.Equal(t, 8, got)
	got, err = client.Result(ctx, c, rdParent, parentID)
	require.NoError(t, err)
	assert.Equal(t, 10, got, "the child of an unknown name ran once a worker hosted it")
}

// --- nondeterminism keeps its detail ---

var ndBefore = orchestration.New("nd-changed", func(ctx orchestration.Context, _ struct{}) (string, error) {
	if _, err := orchestration.Call(ctx, double, 1).Await(ctx); err != nil {
		return "", err
	}
	_ = orchestration.SetCustomStatus(ctx, "waiting")
	return orchestration.WaitEvent[string](ctx, "go", 0).Await(ctx)
})

// ndAfter is a change deployed under running instances without a
// GetVersion guard: its first step is a timer, not an activity.
var ndAfter = orchestration.New("nd-changed", func(ctx orchestration.Context, _ struct{}) (string, error) {
	if err := orchestration.Sleep(ctx, time.Millisecond); err != nil {
		return "", err
	}
	_ = orchestration.SetCustomStatus(ctx, "waiting")
	return orchestration.WaitEvent[string](ctx, "go", 0).Await(ctx)
})

// testNondeterminismDetail: code changed under a running instance fails
// it with type Nondeterminism and the engine's stable code (CB1100 or
// TMPRL1100), naming what history recorded and what the code did.
func testNondeterminismDetail(t *testing.T, e Engine) {
	r := redeployer(t, e)
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(ndBefore)
		w.RegisterActivities(double)
	})
	id, err := client.Start(ctx, c, ndBefore, struct{}{})
	require.NoError(t, err)
	eventually(t, "custom status waiting", func() bool { return customStatus(ctx, c, id) == "waiting" })
	r.Restart(t, c, func(w *worker.Worker) {
		w.RegisterOrchestrators(ndAfter)
		w.RegisterActivities(double)
	})
	require.NoError(t, client.RaiseEvent(ctx, c, id, "go", "now"))
	st, err := c.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, client.StatusFailed, st.RuntimeStatus)
	require.NotNil(t, st.Failure)
	assert.Equal(t, core.FailureNondeterminism, st.Failure.Type, "failure: %s", st.Failure.Message)
	assert.Regexp(t, `^\[(CB|TMPRL)1100\] `, st.Failure.Message, "the message starts with the engine's stable nondeterminism code")
}

// --- the sequencing rules of internal/core ---

var srChild = orchestration.New("sr-child", func(ctx orchestration.Context, _ struct{}) (string, error) {
	return ctx.Info().InstanceID, nil
})

// srCheck is one default child id: the one the child saw and the one the
// rules give.
type srCheck struct {
	After string `json:"after"`
	Got   string `json:"got"`
	Want  string `json:"want"`
}

// srParent runs every primitive and after each one starts a child with
// the default instance id, computing the expected id with core.TakesStep.
var srParent = orchestration.New("sr-parent", func(ctx orchestration.Context, _ struct{}) ([]srCheck, error) {
	id := ctx.Info().InstanceID
	var step int64
	take := func(action string, withTimeout bool) {
		if core.TakesStep(action, withTimeout) {
			step++
		}
	}
	var out []srCheck
	check := func(after string) error {
		take(core.ActionSubOrchestration, false)
		want := core.ChildInstanceID(id, step)
		got, err := orchestration.CallSub(ctx, srChild, struct{}{}).Await(ctx)
		if err != nil {
			return fmt.Errorf("child after %s: %w", after, err)
		}
		out = append(out, srCheck{After: after, Got: got, Want: want})
		return nil
	}
	steps := []struct {
		name string
		run  func() error
	}{
		{"the start", func() error { return nil }},
		{"Call", func() error {
			take(core.ActionActivity, false)
			_, err := orchestration.Call(ctx, double, 1).Await(ctx)
			return err
		}},
		{"NewTimer", func() error {
			take(core.ActionTimer, false)
			return orchestration.Sleep(ctx, time.Millisecond)
		}},
		{"WaitEvent without a timeout", func() error {
			take(core.ActionWaitEvent, false)
			_, err := orchestration.WaitEvent[int](ctx, "sr-go", 0).Await(ctx)
			return err
		}},
		{"WaitEvent that timed out", func() error {
			take(core.ActionWaitEvent, true)
			_, err := orchestration.WaitEvent[int](ctx, "sr-never", 10*time.Millisecond).Await(ctx)
			if !errors.Is(err, orchestration.ErrTimeout) {
				return fmt.Errorf("want a timeout, got %v", err)
			}
			return nil
		}},
		{"SideEffect", func() error {
			take(core.ActionSideEffect, false)
			_, err := orchestration.SideEffect(ctx, func() (int, error) { return 1, nil })
			return err
		}},
		{"GetVersion", func() error {
			take(core.ActionGetVersion, false)
			orchestration.GetVersion(ctx, "sr-change", orchestration.DefaultVersion, 1)
			return nil
		}},
		{"NewUUID", func() error {
			take(core.ActionNewUUID, false)
			orchestration.NewUUID(ctx)
			return nil
		}},
		{"Go+Await", func() error {
			// Go takes no step; the activity in the coroutine does.
			_, err := orchestration.Go(ctx, func(ctx orchestration.Context) (int, error) {
				take(core.ActionActivity, false)
				return orchestration.Call(ctx, double, 2).Await(ctx)
			}).Await(ctx)
			return err
		}},
		{"CallSub with an explicit id", func() error {
			take(core.ActionSubOrchestration, false)
			_, err := orchestration.CallSub(ctx, srChild, struct{}{}, orchestration.WithInstanceID(id+"-named")).Await(ctx)
			return err
		}},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			return out, fmt.Errorf("%s: %w", s.name, err)
		}
		if err := check(s.name); err != nil {
			return out, err
		}
	}
	return out, nil
})

// srEventTimeout fails with its event wait's timeout error.
var srEventTimeout = orchestration.New("sr-event-timeout", func(ctx orchestration.Context, _ struct{}) (struct{}, error) {
	return orchestration.WaitEvent[struct{}](ctx, srTimeoutEvent, srTimeout).Await(ctx)
})

const (
	srTimeoutEvent = "sr-never"
	srTimeout      = 20 * time.Millisecond
)

// srHang blocks until its attempt is over.
var srHang = activity.New("sr-hang", func(ctx context.Context, _ struct{}) (struct{}, error) {
	<-ctx.Done()
	return struct{}{}, ctx.Err()
})

// srTimeoutOut is an activity timeout as the orchestrator sees it.
type srTimeoutOut struct {
	Type         string
	Message      string
	NonRetryable bool
}

const srActivityTimeout = 300 * time.Millisecond

var srActivityTimeouts = orchestration.New("sr-activity-timeouts", func(ctx orchestration.Context, _ struct{}) ([]srTimeoutOut, error) {
	calls := [][]orchestration.CallOption{
		{orchestration.WithStartToCloseTimeout(srActivityTimeout)},
		{orchestration.WithStartToCloseTimeout(srActivityTimeout), orchestration.WithRetry(orchestration.RetryPolicy{
			MaxAttempts: 2, InitialInterval: 10 * time.Millisecond, BackoffCoefficient: 1})},
		{orchestration.WithHeartbeatTimeout(srActivityTimeout)},
	}
	var out []srTimeoutOut
	for _, opts := range calls {
		_, err := orchestration.Call(ctx, srHang, struct{}{}, opts...).Await(ctx)
		var ae *orchestration.ActivityError
		if !errors.As(err, &ae) {
			return out, fmt.Errorf("want an *ActivityError, got %v", err)
		}
		out = append(out, srTimeoutOut{Type: ae.Type, Message: ae.Message, NonRetryable: ae.NonRetryable})
	}
	return out, nil
})

// testChildIDsFollowTheRules: the default child ids after every
// primitive, and the timeout failures, are the ones internal/core states.
func testChildIDsFollowTheRules(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(srParent, srChild, srEventTimeout, srActivityTimeouts)
		w.RegisterActivities(double, srHang)
	})
	id, err := client.Start(ctx, c, srParent, struct{}{})
	require.NoError(t, err)
	require.NoError(t, client.RaiseEvent(ctx, c, id, "sr-go", 1))
	checks, err := client.Result(ctx, c, srParent, id)
	require.NoError(t, err)
	require.Len(t, checks, 10)
	for _, ch := range checks {
		assert.Equal(t, ch.Want, ch.Got, "default child id after %s", ch.After)
	}

	tid, err := client.Start(ctx, c, srEventTimeout, struct{}{})
	require.NoError(t, err)
	st, err := c.Wait(ctx, tid)
	require.NoError(t, err)
	require.Equal(t, client.StatusFailed, st.RuntimeStatus)
	want := core.EventTimeout(srTimeoutEvent, srTimeout)
	assert.Equal(t, client.Failure{Type: want.Type, Message: want.Message}, *st.Failure, "the event wait's timeout failure")

	aid, err := client.Start(ctx, c, srActivityTimeouts, struct{}{})
	require.NoError(t, err)
	outs, err := client.Result(ctx, c, srActivityTimeouts, aid)
	require.NoError(t, err)
	wants := []*core.Failure{
		core.StartToCloseTimeout(srHang.Name(), 1, srActivityTimeout),
		core.StartToCloseTimeout(srHang.Name(), 2, srActivityTimeout),
		core.HeartbeatTimeout(srHang.Name(), 1, srActivityTimeout),
	}
	require.Len(t, outs, len(wants))
	for i, w := range wants {
		assert.Equal(t, srTimeoutOut{Type: w.Type, Message: w.Message, NonRetryable: w.NonRetryable}, outs[i], "activity timeout %d", i)
	}
}

// --- terminate stops work ---

// tsCounts counts, per instance, the attempts of tsWorker: started, ended
// (either way), and of the long ones, started and stopped by their
// context.
type tsCounts struct {
	started, ended, longStarted, longStopped atomic.Int64
}

var tsByInstance, tsCompensated sync.Map

func tsFor(id string) *tsCounts {
	v, _ := tsByInstance.LoadOrStore(id, &tsCounts{})
	return v.(*tsCounts)
}

// tsLongEvery makes every tenth attempt a long one, which runs until its
// context ends; the others take tsShort, so that worker slots turn over
// and queued attempts keep starting until the engine stops them.
const (
	tsLongEvery = 10
	tsShort     = 20 * time.Millisecond
)

var tsWorker = activity.New("ts-worker", func(ctx context.Context, i int) (int, error) {
	info, _ := activity.InfoFrom(ctx)
	n := tsFor(info.InstanceID)
	n.started.Add(1)
	defer n.ended.Add(1)
	if i%tsLongEvery == 0 {
		n.longStarted.Add(1)
		<-ctx.Done()
		n.longStopped.Add(1)
		return 0, ctx.Err()
	}
	select {
	case <-time.After(tsShort):
		return i, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
})

var tsCompensate = activity.New("ts-compensate", func(ctx context.Context, instance string) (struct{}, error) {
	tsCompensated.Store(instance, true)
	return struct{}{}, nil
})

var tsFanOut = orchestration.New("ts-fan-out", func(ctx orchestration.Context, n int) (int, error) {
	fs := make([]orchestration.Future[int], n)
	for i := range fs {
		fs[i] = orchestration.Call(ctx, tsWorker, i)
	}
	_, err := orchestration.All(ctx, fs...).Await(ctx)
	if errors.Is(err, orchestration.ErrCanceled) {
		clean := orchestration.WithoutCancel(ctx)
		if _, cerr := orchestration.Call(clean, tsCompensate, ctx.Info().InstanceID).Await(clean); cerr != nil {
			return 0, cerr
		}
	}
	return 0, err
})

// testTerminateStopsWork: after Terminate returns, no queued attempt of
// the instance starts, every running attempt sees its context end, and
// the compensation under WithoutCancel still runs.
func testTerminateStopsWork(t *testing.T, e Engine) {
	ctx := testContext(t)
	register := func(w *worker.Worker) {
		w.RegisterOrchestrators(tsFanOut)
		w.RegisterActivities(tsWorker, tsCompensate)
	}
	// Few worker slots and many more activities: most attempts are
	// queued when Terminate comes, and slots keep turning over.
	n, before, slots := 400, int64(20), int64(8)
	var c client.Client
	if ost, ok := e.(OptionsStarter); ok {
		c = ost.StartWithOptions(t, worker.Options{MaxConcurrentActivities: int(slots)}, register)
	} else {
		// The default worker bound (256) with more activities than that.
		n, before, slots = 1000, 300, worker.DefaultMaxConcurrentActivities
		c = e.Start(t, register)
	}
	id, err := client.Start(ctx, c, tsFanOut, n)
	require.NoError(t, err)
	counts := tsFor(id)
	eventually(t, "the fan-out's attempts run", func() bool { return counts.started.Load() >= before })
	require.NoError(t, c.Terminate(ctx, id, "stop the fan-out"))
	atTerminate := counts.started.Load()
	st, err := c.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusTerminated, st.RuntimeStatus)
	_, ok := tsCompensated.Load(id)
	assert.True(t, ok, "the compensation under WithoutCancel ran")
	eventually(t, "every started attempt ends", func() bool { return counts.ended.Load() == counts.started.Load() })
	// Late starts, if any, would come now.
	time.Sleep(300 * time.Millisecond)
	// An attempt handed to a worker slot before Terminate returned may
	// begin its body just after (and sees its context end); a queued one
	// must never start.
	assert.LessOrEqual(t, counts.started.Load()-atTerminate, slots, "no queued attempt started after Terminate returned")
	assert.Less(t, counts.started.Load(), int64(n), "queued attempts never started")
	assert.Positive(t, counts.longStarted.Load())
	assert.Equal(t, counts.longStarted.Load(), counts.longStopped.Load(), "every running attempt saw ctx.Done()")
}
