package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var ncCalls atomic.Int64

var ncPrice = activity.New("nc-price", func(ctx context.Context, _ string) (int, error) {
	ncCalls.Add(1)
	return 50, nil
})

var ncOther = activity.New("nc-other", func(ctx context.Context, _ string) (int, error) { return 0, nil })

// ncOrder is the orchestrator in three versions: v1 has a bug (a limit
// too low), v2 fixes it, v3 calls another activity first (a change that
// does not agree with the recorded history).
func ncOrder(version int) *orchestration.Orchestrator[string, int] {
	return orchestration.New("nc-order", func(ctx orchestration.Context, item string) (int, error) {
		if version == 3 {
			if _, err := orchestration.Call(ctx, ncOther, item).Await(ctx); err != nil {
				return 0, err
			}
		}
		price, err := orchestration.Call(ctx, ncPrice, item).Await(ctx)
		if err != nil {
			return 0, err
		}
		if limit := map[int]int{1: 10}[version]; limit > 0 && price > limit {
			return 0, fmt.Errorf("price %d over the limit %d", price, limit)
		}
		return price * 2, nil
	})
}

// TestRewindRunsTheNewCode: a rewind replays with the code registered
// now: a fixed orchestrator completes without calling the succeeded
// activity again; code that no longer agrees with the history fails with
// a [CB1100] nondeterminism error.
func TestRewindRunsTheNewCode(t *testing.T) {
	tests := []struct {
		name    string
		version int
		check   func(t *testing.T, eng *embedded.Engine, id string)
	}{
		{"fixed code completes", 2, func(t *testing.T, eng *embedded.Engine, id string) {
			got, err := client.Result(context.Background(), eng, ncOrder(2), id)
			require.NoError(t, err)
			assert.Equal(t, 100, got)
			assert.EqualValues(t, 1, ncCalls.Load(), "the succeeded activity is not called again")
		}},
		{"diverging code is nondeterministic", 3, func(t *testing.T, eng *embedded.Engine, id string) {
			st, err := eng.Wait(context.Background(), id)
			require.NoError(t, err)
			require.Equal(t, client.StatusFailed, st.RuntimeStatus)
			assert.Contains(t, st.Failure.Message, "CB1100")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ncCalls.Store(0)
			ctx := context.Background()
			eng, err := embedded.Open(ctx, filepath.Join(t.TempDir(), "rw.db"), embedded.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, eng.Close()) })
			run := func(version int) *worker.Worker {
				w := worker.New(eng, worker.Options{})
				w.RegisterOrchestrators(ncOrder(version))
				w.RegisterActivities(ncPrice, ncOther)
				require.NoError(t, w.Start(ctx))
				return w
			}
			w := run(1)
			id, err := client.Start(ctx, eng, ncOrder(1), "book")
			require.NoError(t, err)
			_, err = client.Result(ctx, eng, ncOrder(1), id)
			require.ErrorContains(t, err, "over the limit", "v1's bug")
			require.NoError(t, w.Stop(ctx))

			w = run(tt.version) // the deploy of new code
			t.Cleanup(func() { require.NoError(t, w.Stop(context.Background())) })
			require.NoError(t, eng.Rewind(ctx, id, "deployed v"+fmt.Sprint(tt.version)))
			tt.check(t, eng, id)
		})
	}
}

// TestRewindWithoutAWorker: a rewind by a client with no worker running
// is picked up by the next worker, which re-runs only the failed step.
func TestRewindWithoutAWorker(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rw.db")
	var fixed atomic.Bool
	var calls [3]atomic.Int64
	step := activity.New("nw-step", func(ctx context.Context, i int) (int, error) {
		calls[i].Add(1)
		if i == 1 && !fixed.Load() {
			return 0, activity.NewError("Bug", "bug")
		}
		return i, nil
	})
	chain := orchestration.New("nw-chain", func(ctx orchestration.Context, _ struct{}) (int, error) {
		sum := 0
		for i := range 3 {
			v, err := orchestration.Call(ctx, step, i, orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 2})).Await(ctx)
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	})
	eng, err := embedded.Open(ctx, path, embedded.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, eng.Close()) })
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(chain)
	w.RegisterActivities(step)
	require.NoError(t, w.Start(ctx))
	id, err := client.Start(ctx, eng, chain, struct{}{})
	require.NoError(t, err)
	_, err = client.Result(ctx, eng, chain, id)
	var ae *orchestration.ActivityError
	require.True(t, errors.As(err, &ae), "%v", err)
	require.NoError(t, w.Stop(ctx))
	require.EqualValues(t, 2, calls[1].Load(), "two attempts (MaxAttempts 2)")

	other, err := embedded.Open(ctx, path, embedded.Options{}) // a client of another process
	require.NoError(t, err)
	require.NoError(t, other.Rewind(ctx, id, "fixed"))
	require.NoError(t, other.Close())
	st, err := eng.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusPending, st.RuntimeStatus, "until a worker takes it up")
	assert.Nil(t, st.Failure)

	fixed.Store(true)
	w = worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(chain)
	w.RegisterActivities(step)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() { require.NoError(t, w.Stop(context.Background())) })
	got, err := client.Result(ctx, eng, chain, id)
	require.NoError(t, err)
	assert.Equal(t, 3, got)
	assert.EqualValues(t, []int64{1, 3, 1}, []int64{calls[0].Load(), calls[1].Load(), calls[2].Load()},
		"step 0 is not run again; step 1 gets a fresh attempt budget and succeeds")
}

// TestRewindTerminatedMidActivity: an activity cancelled by Terminate
// runs again after a rewind (the run's cancellation does not reach the
// rewound run's attempts).
func TestRewindTerminatedMidActivity(t *testing.T) {
	started := make(chan struct{}, 2)
	var release atomic.Bool
	var calls atomic.Int64
	slow := activity.New("tm-slow", func(ctx context.Context, _ int) (int, error) {
		calls.Add(1)
		if release.Load() {
			return 7, nil
		}
		started <- struct{}{}
		<-ctx.Done()
		return 0, ctx.Err()
	})
	orch := orchestration.New("tm-orch", func(ctx orchestration.Context, _ int) (int, error) {
		return orchestration.Call(ctx, slow, 0).Await(ctx)
	})
	eng, _ := start(t, embedded.Options{}, orch, slow)
	ctx := context.Background()
	id, err := client.Start(ctx, eng, orch, 0)
	require.NoError(t, err)
	<-started
	require.NoError(t, eng.Terminate(ctx, id, "oops"))
	st, err := eng.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, client.StatusTerminated, st.RuntimeStatus)

	release.Store(true)
	require.NoError(t, eng.Rewind(ctx, id, "not meant"))
	got, err := client.Result(ctx, eng, orch, id)
	require.NoError(t, err)
	assert.Equal(t, 7, got)
	assert.EqualValues(t, 2, calls.Load())
}

// TestRewindThenSuspend: a rewound instance suspended before or after
// the worker took its restart runs its failed step once, after Resume
// or while suspended (as any activity of a suspended instance).
func TestRewindThenSuspend(t *testing.T) {
	var fixed atomic.Bool
	var calls atomic.Int64
	step := activity.New("rs-step", func(ctx context.Context, i int) (int, error) {
		calls.Add(1)
		if !fixed.Load() {
			return 0, activity.NewNonRetryableError("Bug", "bug")
		}
		return i, nil
	})
	orch := orchestration.New("rs-orch", func(ctx orchestration.Context, i int) (int, error) {
		return orchestration.Call(ctx, step, i).Await(ctx)
	})
	eng, _ := start(t, embedded.Options{}, orch, step)
	ctx := context.Background()
	id, err := client.Start(ctx, eng, orch, 5)
	require.NoError(t, err)
	_, err = client.Result(ctx, eng, orch, id)
	require.Error(t, err)

	fixed.Store(true)
	require.NoError(t, eng.Rewind(ctx, id, "fixed"))
	require.NoError(t, eng.Suspend(ctx, id, "hold on"))
	st, err := eng.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusSuspended, st.RuntimeStatus)
	require.NoError(t, eng.Resume(ctx, id, "go"))
	got, err := client.Result(ctx, eng, orch, id)
	require.NoError(t, err)
	assert.Equal(t, 5, got)
	assert.EqualValues(t, 2, calls.Load(), "the failed step ran once more")
}
