package orchestrationtest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/internal/store"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// TestRewindKeepsLateResults: the result of an activity that came after
// its run failed is parked, and a rewind carries it to the rewound run
// instead of running the activity again.
func TestRewindKeepsLateResults(t *testing.T) {
	var fixed atomic.Bool
	var firstCalls, secondCalls atomic.Int64
	first := activity.New("late-first", func(ctx context.Context, _ int) (int, error) {
		firstCalls.Add(1)
		if !fixed.Load() {
			return 0, activity.NewNonRetryableError("Bug", "bug")
		}
		return 1, nil
	})
	second := activity.New("late-second", func(ctx context.Context, _ int) (int, error) {
		secondCalls.Add(1)
		return 2, nil
	})
	orch := orchestration.New("late-orch", func(ctx orchestration.Context, _ int) (int, error) {
		a := orchestration.Call(ctx, first, 0)
		b := orchestration.Call(ctx, second, 0)
		x, err := a.Await(ctx) // fails before b's result: the run ends without it
		if err != nil {
			return 0, err
		}
		y, err := b.Await(ctx)
		return x + y, err
	})
	env := New(t)
	env.RegisterActivities(first, second)
	_, err := Run(env, orch, 0)
	require.ErrorContains(t, err, "bug")
	var rw store.Rewinder = env.st
	deadline := time.Now().Add(30 * time.Second)
	for {
		parked, err := rw.Parked(context.Background(), env.root)
		require.NoError(t, err)
		if len(parked) == 1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the late result is parked")
		time.Sleep(time.Millisecond) // polls for the condition
	}
	for _, ev := range env.History() {
		require.False(t, ev.Type == ActivityCompleted && ev.TaskID == 2, "b's result is not in the failed run's history")
	}

	fixed.Store(true)
	got, err := Rewind(env, orch, "fixed")
	require.NoError(t, err)
	assert.Equal(t, 3, got)
	assert.EqualValues(t, 2, firstCalls.Load())
	assert.EqualValues(t, 1, secondCalls.Load(), "the late result is kept: b does not run again")
}
