package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/analytics"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

var (
	square = activity.New("square", func(_ context.Context, n int) (int, error) { return n * n, nil })
	sum    = activity.New("sum", func(_ context.Context, ns []int) (int, error) {
		t := 0
		for _, n := range ns {
			t += n
		}
		return t, nil
	})
	// label and concat make a reduction that is associative but not
	// commutative, so the tests see whether order is kept.
	label  = activity.New("label", func(_ context.Context, n int) (string, error) { return fmt.Sprintf("%d,", n), nil })
	concat = activity.New("concat", func(_ context.Context, ss []string) (string, error) { return strings.Join(ss, ""), nil })
)

type mapJob struct {
	N    int
	Fail []int // items whose activity always fails
}

func failing(fail []int) func(context.Context, int) (int, error) {
	return func(_ context.Context, n int) (int, error) {
		for _, f := range fail {
			if n == f {
				return 0, activity.NewError("Boom", fmt.Sprintf("item %d exploded", n))
			}
		}
		return n * n, nil
	}
}

func items(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// mapOrch maps square over 0..N-1 with opts.
func mapOrch(name string, opts ...analytics.Option) *orchestration.Orchestrator[mapJob, analytics.MapResult[int]] {
	return orchestration.New(name, func(ctx orchestration.Context, job mapJob) (analytics.MapResult[int], error) {
		return analytics.Map(ctx, square, items(job.N), opts...)
	})
}

func TestMapOutputsInOrder(t *testing.T) {
	env := orchestrationtest.New(t)
	env.RegisterActivities(square)
	res, err := orchestrationtest.Run(env, mapOrch("map"), mapJob{N: 20})
	require.NoError(t, err)
	want := make([]int, 20)
	for i := range want {
		want[i] = i * i
	}
	assert.Equal(t, want, res.Outputs)
	assert.Empty(t, res.Failed)
	assert.True(t, res.OK(3))
}

func TestMapEmpty(t *testing.T) {
	env := orchestrationtest.New(t)
	env.RegisterActivities(square)
	res, err := orchestrationtest.Run(env, mapOrch("map"), mapJob{N: 0})
	require.NoError(t, err)
	assert.Empty(t, res.Outputs)
}

func TestMapBoundedConcurrency(t *testing.T) {
	for _, limit := range []int{1, 3, 7} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			env := orchestrationtest.New(t)
			env.RegisterActivities(square)
			res, err := orchestrationtest.Run(env, mapOrch("map", analytics.WithMaxInFlight(limit)), mapJob{N: 25})
			require.NoError(t, err)
			assert.Len(t, res.Outputs, 25)
			assert.Equal(t, 24*24, res.Outputs[24])
			peak, scheduled := orchestrationtest.MaxInFlight(env.History()), len(orchestrationtest.ScheduledActivities(env.History()))
			assert.Equal(t, limit, peak, "never more than the bound, and the bound is used")
			assert.Equal(t, 25, scheduled)
		})
	}
}

func TestMapFailurePolicies(t *testing.T) {
	tests := []struct {
		name       string
		n          int
		fail       []int
		opts       []analytics.Option
		wantErr    bool
		wantFailed []int
	}{
		{name: "fail fast by default", n: 10, fail: []int{4}, wantErr: true, wantFailed: []int{4}},
		{name: "tolerate n ok", n: 10, fail: []int{7, 2}, opts: []analytics.Option{analytics.TolerateFailures(2)}, wantFailed: []int{2, 7}},
		{name: "tolerate n exceeded", n: 10, fail: []int{7, 2, 5}, opts: []analytics.Option{analytics.TolerateFailures(2)}, wantErr: true, wantFailed: []int{2, 5, 7}},
		{name: "rate ok", n: 20, fail: []int{1, 19}, opts: []analytics.Option{analytics.TolerateFailureRate(0.1)}, wantFailed: []int{1, 19}},
		{name: "rate exceeded", n: 20, fail: []int{1, 3, 19}, opts: []analytics.Option{analytics.TolerateFailureRate(0.1)}, wantErr: true, wantFailed: []int{1, 3, 19}},
		{name: "fail fast overrides", n: 10, fail: []int{3}, opts: []analytics.Option{analytics.TolerateFailures(5), analytics.FailFast()}, wantErr: true, wantFailed: []int{3}},
		{name: "bounded and tolerant", n: 30, fail: []int{0, 29}, opts: []analytics.Option{analytics.TolerateFailures(2), analytics.WithMaxInFlight(4)}, wantFailed: []int{0, 29}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := orchestrationtest.New(t)
			orchestrationtest.MockActivity(env, square, failing(tt.fail))
			res, err := orchestrationtest.Run(env, mapOrch("map", tt.opts...), mapJob{N: tt.n})
			if tt.wantErr {
				require.Error(t, err)
				// The orchestration failed with the map's error, which
				// names the failed item and the activity.
				assert.Contains(t, err.Error(), "items failed, over the")
				assert.Contains(t, err.Error(), fmt.Sprintf("item %d: Boom: item %d exploded", tt.wantFailed[0], tt.wantFailed[0]))
				return
			}
			require.NoError(t, err)
			var got []int
			for _, f := range res.Failed {
				got = append(got, f.Index)
				assert.Equal(t, "Boom", f.Type)
				assert.Equal(t, fmt.Sprintf("item %d exploded", f.Index), f.Message)
				assert.False(t, res.OK(f.Index))
				assert.Zero(t, res.Outputs[f.Index])
			}
			assert.Equal(t, tt.wantFailed, got)
			assert.Equal(t, 8*8, res.Outputs[8])
		})
	}
}

// TestMapErrorValue checks the error Map returns inside the orchestrator.
func TestMapErrorValue(t *testing.T) {
	env := orchestrationtest.New(t)
	orchestrationtest.MockActivity(env, square, failing([]int{1, 2}))
	type out struct {
		IsTooMany bool
		Failed    []analytics.ItemFailure
		Tolerated int
		Started   int
	}
	o := orchestration.New("map-error", func(ctx orchestration.Context, n int) (out, error) {
		_, err := analytics.Map(ctx, square, items(n), analytics.TolerateFailures(1), analytics.WithMaxInFlight(2))
		var me *analytics.MapError
		if !errors.As(err, &me) {
			return out{}, fmt.Errorf("want a *MapError, got %v", err)
		}
		return out{IsTooMany: errors.Is(err, analytics.ErrTooManyFailures), Failed: me.Failed, Tolerated: me.Tolerated}, nil
	})
	res, err := orchestrationtest.Run(env, o, 50)
	require.NoError(t, err)
	assert.True(t, res.IsTooMany)
	assert.Equal(t, 1, res.Tolerated)
	assert.Equal(t, []analytics.ItemFailure{{1, "Boom", "item 1 exploded"}, {2, "Boom", "item 2 exploded"}}, res.Failed)
	scheduled := len(orchestrationtest.ScheduledActivities(env.History()))
	assert.Less(t, scheduled, 10, "the map stopped scheduling after the policy was exceeded")
}

func TestMapRetries(t *testing.T) {
	t.Run("transient failures are retried", func(t *testing.T) {
		env := orchestrationtest.New(t)
		attempts := map[int]int{}
		calls := orchestrationtest.MockActivity(env, square, func(ctx context.Context, n int) (int, error) {
			attempts[n]++
			if attempts[n] < 3 {
				return 0, errors.New("transient")
			}
			return n * n, nil
		})
		res, err := orchestrationtest.Run(env, mapOrch("map", analytics.WithRetry(orchestration.RetryPolicy{MaxAttempts: 3})), mapJob{N: 5})
		require.NoError(t, err)
		assert.Equal(t, []int{0, 1, 4, 9, 16}, res.Outputs)
		assert.Equal(t, 15, calls.Count())
	})
	t.Run("an item that fails on every retry is reported", func(t *testing.T) {
		env := orchestrationtest.New(t)
		calls := orchestrationtest.MockActivity(env, square, failing([]int{3}))
		res, err := orchestrationtest.Run(env, mapOrch("map",
			analytics.WithRetry(orchestration.RetryPolicy{MaxAttempts: 4}), analytics.TolerateFailures(1)), mapJob{N: 5})
		require.NoError(t, err)
		assert.Equal(t, []analytics.ItemFailure{{3, "Boom", "item 3 exploded"}}, res.Failed)
		assert.Equal(t, 4+4, calls.Count(), "4 successes and 4 attempts of item 3")
	})
}

func TestMapProgress(t *testing.T) {
	for _, opts := range [][]analytics.Option{nil, {analytics.MaxItemsPerOrchestration(4)}} {
		env := orchestrationtest.New(t)
		env.RegisterActivities(square)
		env.RegisterOrchestrators(analytics.MapOrchestrator(square))
		var seen []analytics.Progress
		o := orchestration.New("progress", func(ctx orchestration.Context, n int) (int, error) {
			all := append([]analytics.Option{analytics.WithProgress(func(ctx orchestration.Context, p analytics.Progress) {
				if !ctx.IsReplaying() {
					seen = append(seen, p)
				}
				_ = orchestration.SetCustomStatus(ctx, p)
			})}, opts...)
			res, err := analytics.Map(ctx, square, items(n), all...)
			return len(res.Outputs), err
		})
		n, err := orchestrationtest.Run(env, o, 10)
		require.NoError(t, err)
		assert.Equal(t, 10, n)
		status, err := orchestrationtest.CustomStatus[analytics.Progress](env)
		require.NoError(t, err)
		assert.Equal(t, analytics.Progress{Done: 10, Total: 10}, status)
		require.NotEmpty(t, seen)
		for i := 1; i < len(seen); i++ {
			assert.GreaterOrEqual(t, seen[i].Done, seen[i-1].Done, "progress never goes back")
		}
	}
}

// instanceTree walks the sub-orchestrations of id (default ids
// "<parent>:<task id>") and returns each instance's history.
func instanceTree(env *orchestrationtest.Env, id string, out map[string][]orchestrationtest.Event) {
	h := env.InstanceHistory(id)
	out[id] = h
	for _, e := range h {
		if e.Type == "SubOrchestrationScheduled" {
			instanceTree(env, fmt.Sprintf("%s:%d", id, e.TaskID), out)
		}
	}
}

func TestMapSplitsIntoSubOrchestrations(t *testing.T) {
	const n, bound = 50, 4
	env := orchestrationtest.New(t)
	orchestrationtest.MockActivity(env, square, failing([]int{13, 42}))
	env.RegisterOrchestrators(analytics.MapOrchestrator(square))
	res, err := orchestrationtest.Run(env, mapOrch("map",
		analytics.MaxItemsPerOrchestration(bound), analytics.TolerateFailures(2), analytics.WithMaxInFlight(8)), mapJob{N: n})
	require.NoError(t, err)
	require.Len(t, res.Outputs, n)
	for i, v := range res.Outputs {
		if i != 13 && i != 42 {
			assert.Equal(t, i*i, v, "item %d", i)
		}
	}
	assert.Equal(t, []int{13, 42}, []int{res.Failed[0].Index, res.Failed[1].Index}, "indexes are global, not per sub-orchestration")

	tree := map[string][]orchestrationtest.Event{}
	instanceTree(env, "test-instance", tree)
	assert.Greater(t, len(tree), 10, "the map ran in sub-orchestrations")
	activities := 0
	for id, h := range tree {
		calls := 0
		for _, e := range h {
			if e.Type == "ActivityScheduled" || e.Type == "SubOrchestrationScheduled" {
				calls++
			}
			if e.Type == "ActivityScheduled" {
				activities++
			}
		}
		assert.LessOrEqual(t, calls, bound, "instance %s has %d calls, over the bound", id, calls)
	}
	assert.Equal(t, n, activities)
	peak := 0
	for _, h := range tree {
		peak = max(peak, orchestrationtest.MaxInFlight(h))
	}
	assert.LessOrEqual(t, peak, bound)
}

func TestMapSubOrchestratorNotRegistered(t *testing.T) {
	env := orchestrationtest.New(t)
	env.RegisterActivities(square)
	_, err := orchestrationtest.Run(env, mapOrch("map", analytics.MaxItemsPerOrchestration(3)), mapJob{N: 7})
	// The children wait for a worker that hosts their orchestrator, as
	// on the engines; in the harness nothing else can happen.
	require.ErrorIs(t, err, orchestrationtest.ErrStuck)
	assert.Contains(t, err.Error(), `orchestrator "analytics.map:square" is not registered`)
}
