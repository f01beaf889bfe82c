package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// FeatureRewindKeepsEveryResult: Rewind keeps every result recorded for
// a step scheduled before the first failure, also those recorded after it
// (a fan-out's other items), and re-runs only the steps that failed.
const FeatureRewindKeepsEveryResult Feature = "rewind-keeps-every-result"

// Cases of Rewind (issue 14, section 2).

// rwLog records the calls of the rewind cases' activities, by instance:
// the step, and its idempotency key.
type rwLog struct {
	mu    sync.Mutex
	calls map[string][]rwCall
	fixed map[string]bool // the bug is fixed: failing steps succeed
}

type rwCall struct {
	Step int
	Key  string
	OK   bool
}

var rw = &rwLog{calls: map[string][]rwCall{}, fixed: map[string]bool{}}

func (l *rwLog) fix(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fixed[id] = true
}

// step runs a step of instance id (its root: a child's calls count for
// its parent) that fails while it is in failing and the bug is not fixed.
func (l *rwLog) step(ctx context.Context, root string, step int, failing bool) (int, error) {
	info, _ := activity.InfoFrom(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	ok := !failing || l.fixed[root]
	l.calls[root] = append(l.calls[root], rwCall{Step: step, Key: info.IdempotencyKey, OK: ok})
	if !ok {
		return 0, activity.NewNonRetryableError("Bug", fmt.Sprintf("step %d: the bug", step))
	}
	return step, nil
}

// runs counts the calls of each step of root.
func (l *rwLog) runs(root string) map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := map[int]int{}
	for _, c := range l.calls[root] {
		n[c.Step]++
	}
	return n
}

func (l *rwLog) keys(root string, step int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keys []string
	for _, c := range l.calls[root] {
		if c.Step == step {
			keys = append(keys, c.Key)
		}
	}
	return keys
}

type rwStep struct {
	Root    string
	Step    int
	Failing bool
}

var rwActivity = activity.New("rw-step", func(ctx context.Context, s rwStep) (int, error) {
	return rw.step(ctx, s.Root, s.Step, s.Failing)
})

type rwInput struct {
	Steps   int
	Failing []int
}

func rwCallStep(ctx orchestration.Context, root string, step int, in rwInput) orchestration.Future[int] {
	failing := false
	for _, f := range in.Failing {
		failing = failing || f == step
	}
	return orchestration.Call(ctx, rwActivity, rwStep{Root: root, Step: step, Failing: failing})
}

// rwChain runs its steps one after another and returns their sum.
var rwChain = orchestration.New("rw-chain", func(ctx orchestration.Context, in rwInput) (int, error) {
	sum := 0
	for i := 1; i <= in.Steps; i++ {
		v, err := rwCallStep(ctx, ctx.Info().InstanceID, i, in).Await(ctx)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
})

// rwFanOut runs its steps at once and returns their sum.
var rwFanOut = orchestration.New("rw-fan-out", func(ctx orchestration.Context, in rwInput) (int, error) {
	fs := make([]orchestration.Future[int], in.Steps)
	for i := range fs {
		fs[i] = rwCallStep(ctx, ctx.Info().InstanceID, i+1, in)
	}
	vs, err := orchestration.All(ctx, fs...).Await(ctx)
	if err != nil {
		return 0, err
	}
	sum := 0
	for _, v := range vs {
		sum += v
	}
	return sum, nil
})

// rwWaiter runs step 1, then waits for the event "go".
var rwWaiter = orchestration.New("rw-waiter", func(ctx orchestration.Context, in rwInput) (int, error) {
	v, err := rwCallStep(ctx, ctx.Info().InstanceID, 1, in).Await(ctx)
	if err != nil {
		return 0, err
	}
	if err := orchestration.SetCustomStatus(ctx, "waiting"); err != nil {
		return 0, err
	}
	w, err := orchestration.WaitEvent[int](ctx, "go", 0).Await(ctx)
	return v + w, err
})

// rwParent runs step 1, then a child chain whose steps count for it.
var rwParent = orchestration.New("rw-parent", func(ctx orchestration.Context, in rwInput) (int, error) {
	root := ctx.Info().InstanceID
	v, err := rwCallStep(ctx, root, 1, in).Await(ctx)
	if err != nil {
		return 0, err
	}
	w, err := orchestration.CallSub(ctx, rwChild, rwChildInput{Root: root, In: in}).Await(ctx)
	return v + w, err
})

type rwChildInput struct {
	Root string
	In   rwInput
}

var rwChild = orchestration.New("rw-child", func(ctx orchestration.Context, in rwChildInput) (int, error) {
	sum := 0
	for i := 2; i <= in.In.Steps; i++ {
		v, err := rwCallStep(ctx, in.Root, i, in.In).Await(ctx)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
})

// rwStrict fails by itself, its code's bug, until the bug is fixed (new
// code deployed): at once with Steps 0, else after its first step.
var rwStrict = orchestration.New("rw-strict", func(ctx orchestration.Context, in rwInput) (int, error) {
	id := ctx.Info().InstanceID
	v := 0
	if in.Steps > 0 {
		var err error
		if v, err = rwCallStep(ctx, id, 1, in).Await(ctx); err != nil {
			return 0, err
		}
	}
	rw.mu.Lock()
	fixed := rw.fixed[id]
	rw.mu.Unlock()
	if !fixed {
		return 0, errors.New("the code's bug")
	}
	w, err := rwCallStep(ctx, id, 2, in).Await(ctx)
	return v + w, err
})

func rwRegister(w *worker.Worker) {
	w.RegisterOrchestrators(rwChain, rwFanOut, rwWaiter, rwParent, rwChild, rwStrict)
	w.RegisterActivities(rwActivity)
}

func rwID(t *testing.T) string { return fmt.Sprintf("rw-%s-%d", t.Name(), time.Now().UnixNano()) }

// failThenRewind starts o, waits for it to fail, fixes the bug and
// rewinds it, and returns its result.
func failThenRewind(t *testing.T, ctx context.Context, c client.Client, o *orchestration.Orchestrator[rwInput, int], in rwInput) (string, int) {
	t.Helper()
	id, err := client.Start(ctx, c, o, in, client.WithInstanceID(rwID(t)))
	require.NoError(t, err)
	st, err := c.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, client.StatusFailed, st.RuntimeStatus, "the bug fails it")
	rw.fix(id)
	require.NoError(t, c.Rewind(ctx, id, "bug fixed"))
	got, err := client.Result(ctx, c, o, id)
	require.NoError(t, err, "the rewound instance completes")
	return id, got
}

// testRewindChain: a chain whose 3rd step fails until the bug is fixed;
// the rewind runs the 3rd step again and the later ones, not the first
// two, and the re-run has an idempotency key of its own.
func testRewindChain(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, rwRegister)
	id, got := failThenRewind(t, ctx, c, rwChain, rwInput{Steps: 5, Failing: []int{3}})
	assert.Equal(t, 1+2+3+4+5, got)
	assert.Equal(t, map[int]int{1: 1, 2: 1, 3: 2, 4: 1, 5: 1}, rw.runs(id), "calls per step")
	keys := rw.keys(id, 3)
	require.Len(t, keys, 2)
	assert.NotEqual(t, keys[0], keys[1], "the re-run of the failed step has an idempotency key of its own")
}

// testRewindFanOut: a fan-out of 10 where 2 fail; the rewind runs only
// those 2 again (on engines that keep every result).
func testRewindFanOut(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, rwRegister)
	id, got := failThenRewind(t, ctx, c, rwFanOut, rwInput{Steps: 10, Failing: []int{4, 8}})
	assert.Equal(t, 55, got)
	runs := rw.runs(id)
	assert.Equal(t, 2, runs[4])
	assert.Equal(t, 2, runs[8])
	for i := 1; i <= 10; i++ {
		if i == 4 || i == 8 {
			continue
		}
		if why := e.Unsupported(FeatureRewindKeepsEveryResult); why != "" {
			assert.LessOrEqual(t, runs[i], 2, "step %d (%s)", i, why)
		} else {
			assert.Equal(t, 1, runs[i], "step %d succeeded and is not run again", i)
		}
	}
}

// testRewindCodeFailure: an orchestration whose own code failed (no step
// failed) runs the fixed code from the step that failed: at its start, or
// after the step whose result it failed on, which is not run again.
func testRewindCodeFailure(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, rwRegister)
	for _, tc := range []struct {
		name  string
		steps int
		want  int
		runs  map[int]int
	}{
		{"at once", 0, 2, map[int]int{2: 1}},
		{"after a step", 1, 3, map[int]int{1: 1, 2: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, got := failThenRewind(t, ctx, c, rwStrict, rwInput{Steps: tc.steps})
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.runs, rw.runs(id))
		})
	}
}

// testRewindSubOrchestration: a failed child is rewound with its parent.
func testRewindSubOrchestration(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, rwRegister)
	id, got := failThenRewind(t, ctx, c, rwParent, rwInput{Steps: 4, Failing: []int{3}})
	assert.Equal(t, 1+2+3+4, got)
	runs := rw.runs(id)
	assert.Equal(t, 1, runs[1], "the parent's step before the child is not run again")
	assert.Equal(t, 2, runs[3])
	if e.Unsupported(FeatureRewindKeepsEveryResult) == "" {
		assert.Equal(t, map[int]int{1: 1, 2: 1, 3: 2, 4: 1}, runs, "the child resumes at its failed step")
	}
}

// testRewindTerminated: a Terminated instance can be rewound: it waits
// again where it was, with its steps' results.
func testRewindTerminated(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, rwRegister)
	id, err := client.Start(ctx, c, rwWaiter, rwInput{}, client.WithInstanceID(rwID(t)))
	require.NoError(t, err)
	eventually(t, "the instance waits", func() bool { return customStatus(ctx, c, id) == "waiting" })
	require.NoError(t, c.Terminate(ctx, id, "by mistake"))
	st, err := c.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, client.StatusTerminated, st.RuntimeStatus)
	require.NoError(t, c.Rewind(ctx, id, "terminated by mistake"))
	eventually(t, "the rewound instance runs", func() bool {
		st, err := c.Status(ctx, id)
		return err == nil && st.RuntimeStatus == client.StatusRunning
	})
	require.NoError(t, client.RaiseEvent(ctx, c, id, "go", 10))
	got, err := client.Result(ctx, c, rwWaiter, id)
	require.NoError(t, err)
	assert.Equal(t, 11, got)
	assert.Equal(t, map[int]int{1: 1}, rw.runs(id), "step 1 is not run again")
}

// testRewindRefused: a Completed or running instance is
// ErrNotRewindable and nothing changes; an unknown one is ErrNotFound.
func testRewindRefused(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, rwRegister)
	id, err := client.Start(ctx, c, rwChain, rwInput{Steps: 2}, client.WithInstanceID(rwID(t)))
	require.NoError(t, err)
	_, err = client.Result(ctx, c, rwChain, id)
	require.NoError(t, err)
	before, hist := snapshot(t, ctx, c, id)
	err = c.Rewind(ctx, id, "nothing to rewind")
	require.ErrorIs(t, err, client.ErrNotRewindable)
	assert.Contains(t, err.Error(), "Completed")
	after, hist2 := snapshot(t, ctx, c, id)
	assert.Equal(t, before, after, "the status is unchanged")
	assert.Equal(t, hist, hist2, "the history is unchanged")

	live, err := client.Start(ctx, c, rwWaiter, rwInput{}, client.WithInstanceID(rwID(t)+"-live"))
	require.NoError(t, err)
	eventually(t, "the instance waits", func() bool { return customStatus(ctx, c, live) == "waiting" })
	assert.ErrorIs(t, c.Rewind(ctx, live, "x"), client.ErrNotRewindable, "a running instance")
	require.NoError(t, client.RaiseEvent(ctx, c, live, "go", 1))
	_, err = client.Result(ctx, c, rwWaiter, live)
	require.NoError(t, err, "it runs on, untouched")

	assert.ErrorIs(t, c.Rewind(ctx, "no-such-instance-"+id, "x"), client.ErrNotFound)
}

func snapshot(t *testing.T, ctx context.Context, c client.Client, id string) (client.Status, string) {
	t.Helper()
	st, err := c.Status(ctx, id)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, c.ExportHistory(ctx, id, &buf))
	return *st, buf.String()
}
