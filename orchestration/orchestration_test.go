package orchestration_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

var (
	double = activity.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	greet  = activity.New("greet", func(ctx context.Context, name string) (string, error) { return "hello " + name, nil })
	flaky  = activity.New("flaky", func(ctx context.Context, n int) (int, error) { return n, nil })
)

func run[In, Out any](t *testing.T, o *orchestration.Orchestrator[In, Out], in In, setup func(env *orchestrationtest.Env)) (Out, error, *orchestrationtest.Env) {
	t.Helper()
	env := orchestrationtest.New(t)
	env.RegisterActivities(double, greet, flaky)
	if setup != nil {
		setup(env)
	}
	out, err := orchestrationtest.Run(env, o, in)
	return out, err, env
}

func TestChainAndFanOut(t *testing.T) {
	chain := orchestration.New("chain", func(ctx orchestration.Context, n int) (int, error) {
		for range 5 {
			v, err := orchestration.Call(ctx, double, n).Await(ctx)
			if err != nil {
				return 0, err
			}
			n = v
		}
		return n, nil
	})
	fanout := orchestration.New("fanout", func(ctx orchestration.Context, n int) (int, error) {
		fs := make([]orchestration.Future[int], n)
		for i := range fs {
			fs[i] = orchestration.Call(ctx, double, i)
		}
		vals, err := orchestration.All(ctx, fs...).Await(ctx)
		sum := 0
		for _, v := range vals {
			sum += v
		}
		return sum, err
	})
	bounded := orchestration.New("bounded", func(ctx orchestration.Context, n int) (int, error) {
		in := make([]int, n)
		for i := range in {
			in[i] = i
		}
		vals, err := orchestration.CallAll(ctx, double, in, 3).Await(ctx)
		sum := 0
		for i, v := range vals {
			if v != 2*i {
				return 0, fmt.Errorf("result %d out of order: %d", i, v)
			}
			sum += v
		}
		return sum, err
	})
	tests := []struct {
		name string
		orch *orchestration.Orchestrator[int, int]
		in   int
		want int
	}{
		{"chain of 5", chain, 1, 32},
		{"fan-out of 100", fanout, 100, 9900},
		{"fan-out of 0", fanout, 0, 0},
		{"bounded fan-out of 20, 3 in flight", bounded, 20, 380},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err, env := run(t, tt.orch, tt.in, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, out)
			if tt.orch == bounded {
				assert.Equal(t, 3, orchestrationtest.MaxInFlight(env.History()), "at most 3 activities in flight")
			}
		})
	}
}

func TestAllReportsFirstFailureWithIndex(t *testing.T) {
	o := orchestration.New("all-fail", func(ctx orchestration.Context, _ struct{}) (int, error) {
		fs := []orchestration.Future[int]{
			orchestration.Call(ctx, flaky, 0), orchestration.Call(ctx, flaky, 1),
			orchestration.Call(ctx, flaky, 2), orchestration.Call(ctx, flaky, 3),
		}
		_, err := orchestration.All(ctx, fs...).Await(ctx)
		return 0, err
	})
	_, err, _ := run(t, o, struct{}{}, func(env *orchestrationtest.Env) {
		orchestrationtest.MockActivity(env, flaky, func(ctx context.Context, n int) (int, error) {
			if n >= 2 {
				return 0, activity.NewError("TooBig", fmt.Sprintf("%d is too big", n))
			}
			return n, nil
		})
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "future 2 of 4 failed")
	assert.Contains(t, err.Error(), "TooBig: 2 is too big")
}

func TestAnyAcrossTypes(t *testing.T) {
	o := orchestration.New("any", func(ctx orchestration.Context, _ struct{}) (string, error) {
		timer := orchestration.NewTimer(ctx, time.Hour)
		ev := orchestration.WaitEvent[string](ctx, "approve", 0)
		i, err := orchestration.Any(ctx, timer, ev)
		if err != nil {
			return "", err
		}
		if i == 0 {
			return "timer first", nil
		}
		v, err := ev.Await(ctx)
		return "event first: " + v, err
	})
	tests := []struct {
		name  string
		after time.Duration
		want  string
	}{
		{"event before timer", 10 * time.Minute, "event first: yes"},
		{"timer before event", 2 * time.Hour, "timer first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err, _ := run(t, o, struct{}{}, func(env *orchestrationtest.Env) {
				orchestrationtest.RaiseEventAfter(env, tt.after, "approve", "yes")
			})
			require.NoError(t, err)
			assert.Equal(t, tt.want, out)
		})
	}
}

func TestTimersUseVirtualDeterministicTime(t *testing.T) {
	o := orchestration.New("sleeper", func(ctx orchestration.Context, d time.Duration) (time.Duration, error) {
		start := ctx.Now()
		if err := orchestration.Sleep(ctx, d); err != nil {
			return 0, err
		}
		return ctx.Now().Sub(start), nil
	})
	out, err, _ := run(t, o, 7*24*time.Hour, nil)
	require.NoError(t, err)
	assert.Equal(t, 7*24*time.Hour, out)
}

func TestWaitEvent(t *testing.T) {
	o := orchestration.New("approval", func(ctx orchestration.Context, timeout time.Duration) (string, error) {
		v, err := orchestration.WaitEvent[string](ctx, "decision", timeout).Await(ctx)
		if errors.Is(err, orchestration.ErrTimeout) {
			return "timed out", nil
		}
		return v, err
	})
	tests := []struct {
		name    string
		timeout time.Duration
		setup   func(env *orchestrationtest.Env)
		want    string
	}{
		{"arrives in time", 2 * time.Hour, func(env *orchestrationtest.Env) {
			orchestrationtest.RaiseEventAfter(env, time.Hour, "decision", "approved")
		}, "approved"},
		{"times out", 30 * time.Minute, func(env *orchestrationtest.Env) {
			orchestrationtest.RaiseEventAfter(env, time.Hour, "decision", "approved")
		}, "timed out"},
		{"buffered before the wait", time.Minute, func(env *orchestrationtest.Env) {
			orchestrationtest.RaiseEvent(env, "decision", "early")
		}, "early"},
		{"no timeout waits forever", 0, func(env *orchestrationtest.Env) {
			orchestrationtest.RaiseEventAfter(env, 365*24*time.Hour, "decision", "late")
		}, "late"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err, _ := run(t, o, tt.timeout, tt.setup)
			require.NoError(t, err)
			assert.Equal(t, tt.want, out)
		})
	}
}

var child = orchestration.New("child", func(ctx orchestration.Context, name string) (string, error) {
	if name == "" {
		return "", activity.NewNonRetryableError("EmptyName", "no name given")
	}
	return orchestration.Call(ctx, greet, name).Await(ctx)
})

func TestSubOrchestrations(t *testing.T) {
	parent := orchestration.New("parent", func(ctx orchestration.Context, names []string) ([]string, error) {
		fs := make([]orchestration.Future[string], len(names))
		for i, n := range names {
			fs[i] = orchestration.CallSub(ctx, child, n)
		}
		return orchestration.All(ctx, fs...).Await(ctx)
	})
	t.Run("results", func(t *testing.T) {
		out, err, env := run(t, parent, []string{"ann", "bob"}, func(env *orchestrationtest.Env) { env.RegisterOrchestrators(child) })
		require.NoError(t, err)
		assert.Equal(t, []string{"hello ann", "hello bob"}, out)
		assert.NotEmpty(t, env.InstanceHistory("test-instance:1"), "child id is <parent>:<step>")
	})
	t.Run("failure carries the type", func(t *testing.T) {
		_, err, _ := run(t, parent, []string{"ann", ""}, func(env *orchestrationtest.Env) { env.RegisterOrchestrators(child) })
		require.Error(t, err)
		assert.True(t, activity.IsType(err, "EmptyName") || strings.Contains(err.Error(), "EmptyName"), err.Error())
	})
	t.Run("unknown orchestrator", func(t *testing.T) {
		// As on the engines, the child waits for a worker that hosts it;
		// in the harness, nothing else can happen: stuck, saying why.
		_, err, _ := run(t, parent, []string{"ann"}, nil)
		require.ErrorIs(t, err, orchestrationtest.ErrStuck)
		assert.Contains(t, err.Error(), `"test-instance:1" waits: orchestrator "child" is not registered`)
	})
}

func TestContinueAsNew(t *testing.T) {
	counter := orchestration.New("counter", func(ctx orchestration.Context, n int) (int, error) {
		if err := orchestration.Sleep(ctx, time.Minute); err != nil {
			return 0, err
		}
		if n < 5 {
			return 0, orchestration.ContinueAsNew(ctx, n+1)
		}
		return n * 10, nil
	})
	out, err, env := run(t, counter, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, 50, out)
	assert.Equal(t, 5, env.Generation())
	assert.LessOrEqual(t, len(env.History()), 4, "history is bounded per run")

	collector := orchestration.New("collector", func(ctx orchestration.Context, got []string) ([]string, error) {
		if len(got) == 3 {
			return got, nil
		}
		v, err := orchestration.WaitEvent[string](ctx, "item", 0).Await(ctx)
		if err != nil {
			return nil, err
		}
		return nil, orchestration.ContinueAsNew(ctx, append(got, v), orchestration.KeepUnprocessedEvents())
	})
	out2, err, _ := run(t, collector, []string{}, func(env *orchestrationtest.Env) {
		for _, s := range []string{"a", "b", "c"} {
			orchestrationtest.RaiseEvent(env, "item", s)
		}
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, out2, "unprocessed events carried over")
}

func TestDeterministicHelpers(t *testing.T) {
	o := orchestration.New("helpers", func(ctx orchestration.Context, _ struct{}) ([]string, error) {
		u1, u2 := orchestration.NewUUID(ctx), orchestration.NewUUID(ctx)
		r, err := orchestration.SideEffect(ctx, func() (int, error) { return time.Now().Nanosecond(), nil })
		if err != nil {
			return nil, err
		}
		if err := orchestration.SetCustomStatus(ctx, map[string]int{"step": 1}); err != nil {
			return nil, err
		}
		// Work after the side effect, so replay must reuse the value.
		if _, err := orchestration.Call(ctx, double, r%10).Await(ctx); err != nil {
			return nil, err
		}
		_, err = orchestration.SideEffect(ctx, func() (int, error) { return 0, errors.New("no entropy") })
		return []string{u1, u2, fmt.Sprint(err)}, nil
	})
	out, err, env := run(t, o, struct{}{}, nil)
	require.NoError(t, err)
	assert.Len(t, out[0], 36)
	assert.NotEqual(t, out[0], out[1])
	assert.Contains(t, out[2], "no entropy")
	st, err := orchestrationtest.CustomStatus[map[string]int](env)
	require.NoError(t, err)
	assert.Equal(t, 1, st["step"])
	out2, err, _ := run(t, o, struct{}{}, nil)
	require.NoError(t, err)
	assert.Equal(t, out[:2], out2[:2], "UUIDs are the same on every run of the same instance id")
}

func TestGoroutinesAreDeterministic(t *testing.T) {
	o := orchestration.New("coroutines", func(ctx orchestration.Context, _ struct{}) ([]int, error) {
		var order []int
		var fs []orchestration.Future[int]
		for i := range 3 {
			fs = append(fs, orchestration.Go(ctx, func(ctx orchestration.Context) (int, error) {
				v, err := orchestration.Call(ctx, double, i).Await(ctx)
				order = append(order, i)
				return v, err
			}))
		}
		vals, err := orchestration.All(ctx, fs...).Await(ctx)
		return append(vals, order...), err
	})
	out, err, _ := run(t, o, struct{}{}, nil)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 2, 4, 0, 1, 2}, out)
}
