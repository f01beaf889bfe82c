package analytics_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/analytics"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

func TestInvalidOptionsAreNamed(t *testing.T) {
	tests := []struct {
		name     string
		opt      analytics.Option
		defaults []orchestration.CallOption // of the calling context
		want     string
	}{
		{"max in flight", analytics.WithMaxInFlight(-1), nil, "WithMaxInFlight(-1): negative"},
		{"tolerated failures", analytics.TolerateFailures(-1), nil, "TolerateFailures(-1): negative"},
		{"failure rate over 1", analytics.TolerateFailureRate(1.5), nil, "TolerateFailureRate(1.5): want a fraction between 0 and 1"},
		{"failure rate below 0", analytics.TolerateFailureRate(-0.1), nil, "TolerateFailureRate(-0.1): want a fraction between 0 and 1"},
		{"failure rate NaN", analytics.TolerateFailureRate(math.NaN()), nil, "TolerateFailureRate(NaN): want a fraction between 0 and 1"},
		{"retry", analytics.WithRetry(orchestration.RetryPolicy{MaxAttempts: 3, BackoffCoefficient: 0.5}), nil, "WithRetry: BackoffCoefficient 0.5 is below 1"},
		{"start-to-close timeout", analytics.WithStartToCloseTimeout(-time.Second), nil, "WithStartToCloseTimeout(-1s): negative"},
		{"items per orchestration", analytics.MaxItemsPerOrchestration(1), nil, "MaxItemsPerOrchestration(1): want 0 (no bound) or at least 2"},
		{"fan-in", analytics.WithFanIn(1), nil, "WithFanIn(1): want at least 2"},
		{"progress", analytics.WithProgress(nil), nil, "WithProgress(nil)"},
		{"nil option", nil, nil, "option 1 is nil"},
		{"bad default of the context", analytics.FailFast(), []orchestration.CallOption{orchestration.WithHeartbeatTimeout(-time.Second)},
			"WithCallOptions: WithHeartbeatTimeout(-1s): negative"},
	}
	calls := []struct {
		name   string
		prefix string
		run    func(ctx orchestration.Context, opts []analytics.Option) error
	}{
		{"Map", `analytics.Map("square")`, func(ctx orchestration.Context, opts []analytics.Option) error {
			_, err := analytics.Map(ctx, square, items(3), opts...)
			return err
		}},
		{"MapReduce", `analytics.MapReduce("square", "sum")`, func(ctx orchestration.Context, opts []analytics.Option) error {
			_, err := analytics.MapReduce(ctx, square, sum, items(3), opts...)
			return err
		}},
	}
	for _, c := range calls {
		for _, tt := range tests {
			t.Run(c.name+": "+tt.name, func(t *testing.T) {
				o := orchestration.New("bad-options", func(ctx orchestration.Context, _ struct{}) (string, error) {
					if tt.defaults != nil {
						ctx = orchestration.WithCallOptions(ctx, tt.defaults...)
					}
					if err := c.run(ctx, []analytics.Option{analytics.WithMaxInFlight(2), tt.opt}); err != nil {
						return err.Error(), nil
					}
					return "no error", nil
				})
				env := orchestrationtest.New(t)
				env.RegisterActivities(square, sum)
				got, err := orchestrationtest.Run(env, o, struct{}{})
				require.NoError(t, err)
				assert.Equal(t, c.prefix+": "+tt.want, got)
				assert.Empty(t, orchestrationtest.ScheduledActivities(env.History()), "nothing is scheduled with a bad option")
			})
		}
	}
}

// The default call options of the calling context reach every activity
// call of a map or map-reduce, in its sub-orchestrations too, and the
// options of the map override them.
func TestCallDefaultsReachEveryCall(t *testing.T) {
	// flakySquare and flakySum fail the first attempt of every call.
	flakySquare := activity.New("square", func(ctx context.Context, n int) (int, error) {
		if info, _ := activity.InfoFrom(ctx); info.Attempt == 1 {
			return 0, activity.NewError("Transient", "first attempt")
		}
		return n * n, nil
	})
	flakySum := activity.New("sum", func(ctx context.Context, ns []int) (int, error) {
		if info, _ := activity.InfoFrom(ctx); info.Attempt == 1 {
			return 0, activity.NewError("Transient", "first attempt")
		}
		t := 0
		for _, n := range ns {
			t += n
		}
		return t, nil
	})
	retryOnce := orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 2, InitialInterval: time.Second})
	const n = 9
	wantSum := 0
	for i := range n {
		wantSum += i * i
	}
	tests := []struct {
		name    string
		opts    []analytics.Option
		wantErr bool
	}{
		{"flat", nil, false},
		{"in sub-orchestrations", []analytics.Option{analytics.MaxItemsPerOrchestration(2)}, false},
		{"bounded, in sub-orchestrations", []analytics.Option{analytics.MaxItemsPerOrchestration(3), analytics.WithMaxInFlight(2)}, false},
		{"overridden by the map's policy", []analytics.Option{analytics.WithRetry(orchestration.RetryPolicy{MaxAttempts: 1})}, true},
		{"overridden in sub-orchestrations", []analytics.Option{analytics.MaxItemsPerOrchestration(2), analytics.WithRetry(orchestration.RetryPolicy{MaxAttempts: 1})}, true},
	}
	for _, tt := range tests {
		t.Run("Map "+tt.name, func(t *testing.T) {
			env := orchestrationtest.New(t)
			env.RegisterActivities(flakySquare)
			env.RegisterOrchestrators(analytics.MapOrchestrator(flakySquare))
			o := orchestration.New("map-defaults", func(ctx orchestration.Context, _ struct{}) (analytics.MapResult[int], error) {
				return analytics.Map(orchestration.WithCallOptions(ctx, retryOnce), flakySquare, items(n), tt.opts...)
			})
			res, err := orchestrationtest.Run(env, o, struct{}{})
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "item 0: Transient: first attempt")
				return
			}
			require.NoError(t, err)
			for i, v := range res.Outputs {
				assert.Equal(t, i*i, v, "item %d", i)
			}
		})
		t.Run("MapReduce "+tt.name, func(t *testing.T) {
			env := orchestrationtest.New(t)
			env.RegisterActivities(flakySquare, flakySum)
			env.RegisterOrchestrators(analytics.MapReduceOrchestrator(flakySquare, flakySum))
			o := orchestration.New("mapreduce-defaults", func(ctx orchestration.Context, _ struct{}) (int, error) {
				ctx = orchestration.WithCallOptions(ctx, retryOnce)
				r, err := analytics.MapReduce(ctx, flakySquare, flakySum, items(n), append(tt.opts, analytics.WithFanIn(2))...)
				return r.Value, err
			})
			got, err := orchestrationtest.Run(env, o, struct{}{})
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "Transient: first attempt")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, wantSum, got)
		})
	}
}
