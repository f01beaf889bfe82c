package conformance

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
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// FeatureEveryAttempt: ActivityAttempts gives every attempt's times and
// failure; without it (Temporal), only the last attempt's times and the
// failure of the one before are kept, and earlier attempts are listed,
// Failed, without them.
const FeatureEveryAttempt Feature = "every-attempt"

// attemptCases are the cases of ActivityAttempts.
var attemptCases = []struct {
	name string
	fn   func(*testing.T, Engine)
}{
	{"AttemptsOfAFanOut", testAttemptsOfAFanOut},
	{"AttemptsOfRetries", testAttemptsOfRetries},
	{"AttemptsRunningNow", testAttemptsRunningNow},
	{"AttemptsOfARetryRunningNow", testAttemptsOfARetryRunningNow},
	{"AttemptsOfATimeout", testAttemptsOfATimeout},
	{"AttemptsOfAnUnknownInstance", testAttemptsOfAnUnknownInstance},
}

// assertOrdered checks that an attempt's known times are in order:
// ScheduledAt <= StartedAt <= FinishedAt.
func assertOrdered(t *testing.T, a client.ActivityAttempt) {
	t.Helper()
	if !a.ScheduledAt.IsZero() && !a.StartedAt.IsZero() {
		assert.False(t, a.StartedAt.Before(a.ScheduledAt), "task %d attempt %d started (%s) before it was due (%s)",
			a.TaskID, a.Attempt, a.StartedAt, a.ScheduledAt)
	}
	if !a.StartedAt.IsZero() && !a.FinishedAt.IsZero() {
		assert.False(t, a.FinishedAt.Before(a.StartedAt), "task %d attempt %d finished (%s) before it started (%s)",
			a.TaskID, a.Attempt, a.FinishedAt, a.StartedAt)
	}
}

// testAttemptsOfAFanOut: a fan-out of n lists n attempts, one per call,
// in schedule order, each completed with all its times in order.
func testAttemptsOfAFanOut(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(fanOut)
		w.RegisterActivities(double)
	})
	const n = 20
	id, err := client.Start(ctx, c, fanOut, n)
	require.NoError(t, err)
	_, err = client.Result(ctx, c, fanOut, id)
	require.NoError(t, err)
	as, err := c.ActivityAttempts(ctx, id)
	require.NoError(t, err)
	require.Len(t, as, n, "one attempt per call")
	for i, a := range as {
		if i > 0 {
			assert.Less(t, as[i-1].TaskID, a.TaskID, "in schedule order, one attempt per task")
		}
		assert.Equal(t, "double", a.Name)
		assert.Equal(t, 1, a.Attempt)
		assert.Equal(t, client.AttemptCompleted, a.State)
		assert.Nil(t, a.Failure)
		assert.False(t, a.ScheduledAt.IsZero() || a.StartedAt.IsZero() || a.FinishedAt.IsZero(), "every time is known: %+v", a)
		assertOrdered(t, a)
	}
}

// testAttemptsOfRetries: an activity that fails twice and then succeeds
// under a retry policy lists three attempts: failed, failed, completed.
// Where the engine keeps every attempt, each has its times, in order
// across the retries, and the failed ones their failure.
func testAttemptsOfRetries(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(retrying)
		w.RegisterActivities(flaky)
	})
	id, err := client.Start(ctx, c, retrying, struct{}{})
	require.NoError(t, err)
	_, err = client.Result(ctx, c, retrying, id)
	require.NoError(t, err)
	as, err := c.ActivityAttempts(ctx, id)
	require.NoError(t, err)
	require.Len(t, as, 3, "%+v", as)
	var states []client.AttemptState
	for i, a := range as {
		assert.Equal(t, as[0].TaskID, a.TaskID, "one call")
		assert.Equal(t, "flaky", a.Name)
		assert.Equal(t, i+1, a.Attempt)
		states = append(states, a.State)
		assertOrdered(t, a)
	}
	assert.Equal(t, []client.AttemptState{client.AttemptFailed, client.AttemptFailed, client.AttemptCompleted}, states)
	last := as[2]
	assert.False(t, last.StartedAt.IsZero() || last.FinishedAt.IsZero(), "the last attempt's times are known: %+v", last)
	assert.False(t, as[0].ScheduledAt.IsZero(), "the first attempt's schedule is known")
	require.NotNil(t, as[1].Failure, "the failure of the attempt before the last is known")
	assert.Equal(t, "Transient", as[1].Failure.Type)
	assert.Equal(t, "attempt 2 fails", as[1].Failure.Message)
	if why := e.Unsupported(FeatureEveryAttempt); why != "" {
		t.Logf("earlier attempts' times and failures: %s", why)
		return
	}
	require.NotNil(t, as[0].Failure)
	assert.Equal(t, "Transient", as[0].Failure.Type)
	assert.Equal(t, "attempt 1 fails", as[0].Failure.Message)
	for i, a := range as {
		assert.False(t, a.ScheduledAt.IsZero() || a.StartedAt.IsZero() || a.FinishedAt.IsZero(), "attempt %d: every time is known: %+v", i+1, a)
		if i > 0 {
			assert.False(t, a.ScheduledAt.Before(as[i-1].FinishedAt), "attempt %d was due (%s) after attempt %d failed (%s)",
				i+1, a.ScheduledAt, i, as[i-1].FinishedAt)
		}
	}
}

// gate holds the activities of one instance until the test releases
// them, and tells when each has started.
type gate struct {
	started chan string
	release chan struct{}
}

// gates are the gates of the instances of the running-now case, by
// instance id.
var gates sync.Map

func newGate(id string) *gate {
	g := &gate{started: make(chan string, 2), release: make(chan struct{})}
	gates.Store(id, g)
	return g
}

// held says it started, then waits for its instance's gate to open.
var held = activity.New("held", waitAtGate)

func waitAtGate(ctx context.Context, label string) (string, error) {
	info, _ := activity.InfoFrom(ctx)
	v, ok := gates.Load(info.InstanceID)
	if !ok {
		return "", errors.New("no gate for " + info.InstanceID)
	}
	g := v.(*gate)
	g.started <- label
	select {
	case <-g.release:
		return label, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// heldPair calls held twice in one step: "retried", with a retry policy,
// and "plain", without.
var heldPair = orchestration.New("held-pair", func(ctx orchestration.Context, _ struct{}) (string, error) {
	r := orchestration.Call(ctx, held, "retried", orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 2}))
	p := orchestration.Call(ctx, held, "plain")
	vs, err := orchestration.All(ctx, r, p).Await(ctx)
	if err != nil {
		return "", err
	}
	return vs[0] + "+" + vs[1], nil
})

// testAttemptsRunningNow: attempts that run now are listed Running, with
// their start and no finish, with and without a retry policy; once they
// return, Completed. (Both calls are scheduled in one step, and a call
// with a retry policy starts once its start is recorded: when it runs,
// both calls are in the history.)
func testAttemptsRunningNow(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(heldPair)
		w.RegisterActivities(held)
	})
	id := "held-" + time.Now().UTC().Format("150405.000000000")
	g := newGate(id)
	t.Cleanup(func() { gates.Delete(id) })
	_, err := client.Start(ctx, c, heldPair, struct{}{}, client.WithInstanceID(id))
	require.NoError(t, err)
	opened := false
	defer func() {
		if !opened {
			close(g.release)
		}
	}()
	for range 2 {
		select {
		case <-g.started:
		case <-ctx.Done():
			t.Fatal("the held activities did not start")
		}
	}
	as, err := c.ActivityAttempts(ctx, id)
	require.NoError(t, err)
	require.Len(t, as, 2, "%+v", as)
	for _, a := range as {
		assert.Equal(t, client.AttemptRunning, a.State, "task %d", a.TaskID)
		assert.Equal(t, 1, a.Attempt)
		assert.False(t, a.StartedAt.IsZero(), "task %d: its start is known", a.TaskID)
		assert.True(t, a.FinishedAt.IsZero(), "task %d: not finished", a.TaskID)
		assert.Nil(t, a.Failure)
		assertOrdered(t, a)
	}
	close(g.release)
	opened = true
	got, err := client.Result(ctx, c, heldPair, id)
	require.NoError(t, err)
	assert.Equal(t, "retried+plain", got)
	as, err = c.ActivityAttempts(ctx, id)
	require.NoError(t, err)
	require.Len(t, as, 2)
	for _, a := range as {
		assert.Equal(t, client.AttemptCompleted, a.State)
		assert.False(t, a.FinishedAt.IsZero())
		assertOrdered(t, a)
	}
}

// failsThenHeld fails its first attempt, then says it started and waits
// for its instance's gate to open.
var failsThenHeld = activity.New("fails-then-held", func(ctx context.Context, label string) (string, error) {
	if info, _ := activity.InfoFrom(ctx); info.Attempt == 1 {
		return "", activity.NewError("Transient", "the first attempt fails")
	}
	return waitAtGate(ctx, label)
})

var retriedHeld = orchestration.New("retried-held", func(ctx orchestration.Context, _ struct{}) (string, error) {
	return orchestration.Call(ctx, failsThenHeld, "second", orchestration.WithRetry(orchestration.RetryPolicy{
		MaxAttempts: 3, InitialInterval: 10 * time.Millisecond})).Await(ctx)
})

// testAttemptsOfARetryRunningNow: while the second attempt of a call
// runs, the first is listed Failed, with its failure and finish, and the
// second Running, with its due time and start.
func testAttemptsOfARetryRunningNow(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(retriedHeld)
		w.RegisterActivities(failsThenHeld)
	})
	id := "retried-held-" + time.Now().UTC().Format("150405.000000000")
	g := newGate(id)
	t.Cleanup(func() { gates.Delete(id) })
	_, err := client.Start(ctx, c, retriedHeld, struct{}{}, client.WithInstanceID(id))
	require.NoError(t, err)
	defer close(g.release)
	select {
	case <-g.started:
	case <-ctx.Done():
		t.Fatal("the second attempt did not start")
	}
	as, err := c.ActivityAttempts(ctx, id)
	require.NoError(t, err)
	require.Len(t, as, 2, "%+v", as)
	first, second := as[0], as[1]
	assert.Equal(t, []any{1, client.AttemptFailed}, []any{first.Attempt, first.State})
	require.NotNil(t, first.Failure)
	assert.Equal(t, "Transient", first.Failure.Type)
	assert.Equal(t, "the first attempt fails", first.Failure.Message)
	assert.False(t, first.ScheduledAt.IsZero() || first.FinishedAt.IsZero(), "the first attempt's schedule and finish are known: %+v", first)
	assert.Equal(t, []any{2, client.AttemptRunning}, []any{second.Attempt, second.State})
	assert.False(t, second.ScheduledAt.IsZero() || second.StartedAt.IsZero(), "the second attempt's due time and start are known: %+v", second)
	assert.True(t, second.FinishedAt.IsZero())
	assert.False(t, second.ScheduledAt.Before(first.FinishedAt), "the retry was due after the failure")
	assertOrdered(t, first)
	assertOrdered(t, second)
	if e.Unsupported(FeatureEveryAttempt) == "" {
		assert.False(t, first.StartedAt.IsZero(), "the first attempt's start is known")
	}
}

// hangs until its attempt is cancelled.
var hangs = activity.New("hangs", func(ctx context.Context, _ struct{}) (struct{}, error) {
	<-ctx.Done()
	return struct{}{}, ctx.Err()
})

// timesOut calls hangs with a start-to-close timeout and no retry, and
// returns the failure's type.
var timesOut = orchestration.New("times-out", func(ctx orchestration.Context, _ struct{}) (string, error) {
	_, err := orchestration.Call(ctx, hangs, struct{}{}, orchestration.WithStartToCloseTimeout(500*time.Millisecond)).Await(ctx)
	var ae *orchestration.ActivityError
	if !errors.As(err, &ae) {
		return "", errors.New("hangs did not fail")
	}
	return ae.Type, nil
})

// testAttemptsOfATimeout: an attempt past its start-to-close timeout is
// TimedOut, with its start, its finish and a Timeout failure.
func testAttemptsOfATimeout(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(timesOut)
		w.RegisterActivities(hangs)
	})
	id, err := client.Start(ctx, c, timesOut, struct{}{})
	require.NoError(t, err)
	typ, err := client.Result(ctx, c, timesOut, id)
	require.NoError(t, err)
	require.Equal(t, "Timeout", typ)
	as, err := c.ActivityAttempts(ctx, id)
	require.NoError(t, err)
	require.Len(t, as, 1, "%+v", as)
	a := as[0]
	assert.Equal(t, client.AttemptTimedOut, a.State)
	if assert.NotNil(t, a.Failure) {
		assert.Equal(t, "Timeout", a.Failure.Type)
	}
	assert.False(t, a.StartedAt.IsZero() || a.FinishedAt.IsZero(), "%+v", a)
	assertOrdered(t, a)
}

func testAttemptsOfAnUnknownInstance(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(fanOut) })
	_, err := c.ActivityAttempts(ctx, "no-such-instance")
	assert.ErrorIs(t, err, client.ErrNotFound)
}
