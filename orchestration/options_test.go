package orchestration_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

var (
	probe    = activity.New("probe", func(ctx context.Context, label string) (string, error) { return label, nil })
	subProbe = orchestration.New("sub-probe", func(ctx orchestration.Context, label string) (string, error) { return label, nil })
)

// recordedOptions returns the options recorded with each ActivityScheduled
// event of the root instance's history, by the call's input.
func recordedOptions(t *testing.T, env *orchestrationtest.Env) map[string]core.ActivityOptions {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, env.ExportHistory(&buf))
	var h struct {
		Events []struct {
			Type    string                `json:"type"`
			Payload json.RawMessage       `json:"payload"`
			Options *core.ActivityOptions `json:"options"`
		} `json:"events"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &h))
	got := map[string]core.ActivityOptions{}
	for _, e := range h.Events {
		if e.Type != string(orchestrationtest.ActivityScheduled) {
			continue
		}
		var label string
		require.NoError(t, json.Unmarshal(e.Payload, &label))
		require.NotNil(t, e.Options, "options of %q", label)
		got[label] = *e.Options
	}
	return got
}

func TestInvalidOptionsAreNamed(t *testing.T) {
	neg := -time.Second
	call := func(opts ...orchestration.CallOption) func(ctx orchestration.Context) error {
		return func(ctx orchestration.Context) error {
			_, err := orchestration.Call(ctx, probe, "x", opts...).Await(ctx)
			return err
		}
	}
	withDefaults := func(defaults ...orchestration.CallOption) func(ctx orchestration.Context) error {
		return func(ctx orchestration.Context) error {
			_, err := orchestration.Call(orchestration.WithCallOptions(ctx, defaults...), probe, "x").Await(ctx)
			return err
		}
	}
	retry := func(p orchestration.RetryPolicy) func(ctx orchestration.Context) error {
		return call(orchestration.WithRetry(p))
	}
	tests := []struct {
		name string
		body func(ctx orchestration.Context) error
		want string
	}{
		{"start-to-close timeout", call(orchestration.WithStartToCloseTimeout(neg)),
			`orchestration.Call("probe"): WithStartToCloseTimeout(-1s): negative`},
		{"heartbeat timeout", call(orchestration.WithHeartbeatTimeout(neg)),
			`orchestration.Call("probe"): WithHeartbeatTimeout(-1s): negative`},
		{"retry: attempts", retry(orchestration.RetryPolicy{MaxAttempts: -1}),
			`orchestration.Call("probe"): WithRetry: MaxAttempts -1 is negative`},
		{"retry: initial interval", retry(orchestration.RetryPolicy{InitialInterval: neg}),
			`orchestration.Call("probe"): WithRetry: InitialInterval -1s is negative`},
		{"retry: coefficient", retry(orchestration.RetryPolicy{BackoffCoefficient: 0.5}),
			`orchestration.Call("probe"): WithRetry: BackoffCoefficient 0.5 is below 1`},
		{"retry: coefficient NaN", retry(orchestration.RetryPolicy{BackoffCoefficient: math.NaN()}),
			`orchestration.Call("probe"): WithRetry: BackoffCoefficient NaN is not a finite number`},
		{"retry: max interval", retry(orchestration.RetryPolicy{MaxInterval: neg}),
			`orchestration.Call("probe"): WithRetry: MaxInterval -1s is negative`},
		{"retry: max interval below the initial one", retry(orchestration.RetryPolicy{InitialInterval: time.Minute, MaxInterval: time.Second}),
			`orchestration.Call("probe"): WithRetry: MaxInterval 1s is below InitialInterval 1m0s`},
		{"retry: max interval below the default initial one", retry(orchestration.RetryPolicy{MaxInterval: time.Millisecond}),
			`orchestration.Call("probe"): WithRetry: MaxInterval 1ms is below InitialInterval 1s`},
		{"first error wins", call(orchestration.WithStartToCloseTimeout(time.Second), orchestration.WithHeartbeatTimeout(neg), orchestration.WithStartToCloseTimeout(neg)),
			`orchestration.Call("probe"): WithHeartbeatTimeout(-1s): negative`},
		{"nil call option", call(orchestration.WithStartToCloseTimeout(time.Second), nil),
			`orchestration.Call("probe"): option 1 is nil`},
		{"bad default", withDefaults(orchestration.WithStartToCloseTimeout(neg)),
			`orchestration.Call("probe"): WithCallOptions: WithStartToCloseTimeout(-1s): negative`},
		{"nil default", withDefaults(orchestration.WithRetry(orchestration.RetryPolicy{}), nil),
			`orchestration.Call("probe"): WithCallOptions: option 1 is nil`},
		{"bad outer default under a good inner one", func(ctx orchestration.Context) error {
			bad := orchestration.WithCallOptions(ctx, orchestration.WithHeartbeatTimeout(neg))
			_, err := orchestration.Call(orchestration.WithCallOptions(bad, orchestration.WithStartToCloseTimeout(time.Second)), probe, "x").Await(ctx)
			return err
		}, `orchestration.Call("probe"): WithCallOptions: WithHeartbeatTimeout(-1s): negative`},
		{"bad default through CallAll in a coroutine", func(ctx orchestration.Context) error {
			bad := orchestration.WithCallOptions(ctx, orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: -2}))
			_, err := orchestration.CallAll(bad, probe, []string{"x", "y", "z"}, 1).Await(ctx)
			return err
		}, `future 0 of 3 failed: orchestration.Call("probe"): WithCallOptions: WithRetry: MaxAttempts -2 is negative`},
		{"sub-orchestration instance id", func(ctx orchestration.Context) error {
			_, err := orchestration.CallSub(ctx, subProbe, "x", orchestration.WithInstanceID("")).Await(ctx)
			return err
		}, `orchestration.CallSub("sub-probe"): WithInstanceID(""): empty; omit the option for the default id`},
		{"nil sub-orchestration option", func(ctx orchestration.Context) error {
			_, err := orchestration.CallSub(ctx, subProbe, "x", nil).Await(ctx)
			return err
		}, `orchestration.CallSub("sub-probe"): option 0 is nil`},
		{"nil continue-as-new option", func(ctx orchestration.Context) error {
			return orchestration.ContinueAsNew(ctx, "again", orchestration.KeepUnprocessedEvents(), nil)
		}, `orchestration.ContinueAsNew: option 1 is nil`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := orchestration.New("bad-options", func(ctx orchestration.Context, _ string) (string, error) {
				err := tt.body(ctx)
				if err == nil {
					return "no error", nil
				}
				return err.Error(), nil
			})
			env := orchestrationtest.New(t)
			env.RegisterActivities(probe)
			env.RegisterOrchestrators(subProbe)
			got, err := orchestrationtest.Run(env, o, "")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			for _, e := range env.History() {
				assert.NotContains(t, []orchestrationtest.EventType{orchestrationtest.ActivityScheduled, orchestrationtest.SubOrchestrationScheduled}, e.Type,
					"nothing is scheduled with a bad option")
			}
		})
	}
}

func TestCallDefaults(t *testing.T) {
	retry := func(n int) orchestration.CallOption {
		return orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: n})
	}
	policy := func(n int) *core.RetryPolicy { return &core.RetryPolicy{MaxAttempts: n} }
	stc := orchestration.WithStartToCloseTimeout
	await := func(ctx orchestration.Context, label string, opts ...orchestration.CallOption) error {
		_, err := orchestration.Call(ctx, probe, label, opts...).Await(ctx)
		return err
	}
	// defaults is the context most cases start from.
	defaults := func(ctx orchestration.Context) orchestration.Context {
		return orchestration.WithCallOptions(ctx, retry(3), stc(5*time.Second))
	}
	tests := []struct {
		name string
		body func(ctx orchestration.Context) error
		want map[string]core.ActivityOptions
	}{
		{"apply to Call", func(ctx orchestration.Context) error {
			return await(defaults(ctx), "a")
		}, map[string]core.ActivityOptions{"a": {Retry: policy(3), StartToClose: 5 * time.Second}}},
		{"apply to CallNamed", func(ctx orchestration.Context) error {
			_, err := orchestration.CallNamed[string, string](defaults(ctx), "probe", "a").Await(ctx)
			return err
		}, map[string]core.ActivityOptions{"a": {Retry: policy(3), StartToClose: 5 * time.Second}}},
		{"are overridden by the call's options", func(ctx orchestration.Context) error {
			d := defaults(ctx)
			if err := await(d, "a", stc(time.Second)); err != nil {
				return err
			}
			return await(d, "b", retry(5), orchestration.WithHeartbeatTimeout(time.Second))
		}, map[string]core.ActivityOptions{
			"a": {Retry: policy(3), StartToClose: time.Second},
			"b": {Retry: policy(5), StartToClose: 5 * time.Second, HeartbeatTimeout: time.Second},
		}},
		{"leave the parent context alone", func(ctx orchestration.Context) error {
			_ = defaults(ctx)
			return await(ctx, "a")
		}, map[string]core.ActivityOptions{"a": {}}},
		{"are inherited by coroutines", func(ctx orchestration.Context) error {
			_, err := orchestration.Go(defaults(ctx), func(ctx orchestration.Context) (struct{}, error) {
				return struct{}{}, await(ctx, "a")
			}).Await(ctx)
			return err
		}, map[string]core.ActivityOptions{"a": {Retry: policy(3), StartToClose: 5 * time.Second}}},
		{"are inherited by WithoutCancel", func(ctx orchestration.Context) error {
			return await(orchestration.WithoutCancel(defaults(ctx)), "a")
		}, map[string]core.ActivityOptions{"a": {Retry: policy(3), StartToClose: 5 * time.Second}}},
		{"apply to CallAll, bounded or not", func(ctx orchestration.Context) error {
			d := defaults(ctx)
			if _, err := orchestration.CallAll(d, probe, []string{"a", "b"}, 0).Await(ctx); err != nil {
				return err
			}
			_, err := orchestration.CallAll(d, probe, []string{"c", "d", "e"}, 1, stc(time.Second)).Await(ctx)
			return err
		}, map[string]core.ActivityOptions{
			"a": {Retry: policy(3), StartToClose: 5 * time.Second},
			"b": {Retry: policy(3), StartToClose: 5 * time.Second},
			"c": {Retry: policy(3), StartToClose: time.Second},
			"d": {Retry: policy(3), StartToClose: time.Second},
			"e": {Retry: policy(3), StartToClose: time.Second},
		}},
		{"stack", func(ctx orchestration.Context) error {
			outer := defaults(ctx)
			inner := orchestration.WithCallOptions(outer, orchestration.WithHeartbeatTimeout(2*time.Second), stc(7*time.Second))
			if err := await(inner, "inner"); err != nil {
				return err
			}
			if err := await(orchestration.WithoutCancel(inner), "inner, without cancel"); err != nil {
				return err
			}
			return await(outer, "outer")
		}, map[string]core.ActivityOptions{
			"inner":                 {Retry: policy(3), StartToClose: 7 * time.Second, HeartbeatTimeout: 2 * time.Second},
			"inner, without cancel": {Retry: policy(3), StartToClose: 7 * time.Second, HeartbeatTimeout: 2 * time.Second},
			"outer":                 {Retry: policy(3), StartToClose: 5 * time.Second},
		}},
		{"apply in order", func(ctx orchestration.Context) error {
			return await(orchestration.WithCallOptions(ctx, stc(time.Second), retry(2), stc(2*time.Second)), "a")
		}, map[string]core.ActivityOptions{"a": {Retry: policy(2), StartToClose: 2 * time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := orchestration.New("defaults", func(ctx orchestration.Context, _ string) (string, error) {
				return "", tt.body(ctx)
			})
			env := orchestrationtest.New(t) // replays every run when it ends
			env.RegisterActivities(probe)
			_, err := orchestrationtest.Run(env, o, "")
			require.NoError(t, err)
			assert.Equal(t, tt.want, recordedOptions(t, env))
		})
	}
}

func TestCallDefaultsRetry(t *testing.T) {
	o := orchestration.New("default-retry", func(ctx orchestration.Context, opts []int) (int, error) {
		ctx = orchestration.WithCallOptions(ctx, orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 3}))
		var call []orchestration.CallOption
		if len(opts) > 0 {
			call = append(call, orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: opts[0]}))
		}
		return orchestration.Call(ctx, flaky, 7, call...).Await(ctx)
	})
	tests := []struct {
		name      string
		override  []int
		wantCalls int
		wantErr   bool
	}{
		{"the default policy retries", nil, 3, false},
		{"the call's policy overrides it", []int{1}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := orchestrationtest.New(t)
			calls := orchestrationtest.MockActivity(env, flaky, func(ctx context.Context, v int) (int, error) {
				if info, _ := activity.InfoFrom(ctx); info.Attempt <= 2 {
					return 0, activity.NewError("Transient", "attempt failed")
				}
				return v, nil
			})
			out, err := orchestrationtest.Run(env, o, tt.override)
			assert.Equal(t, tt.wantCalls, calls.Count())
			if tt.wantErr {
				require.True(t, activity.IsType(err, "Transient"), err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 7, out)
		})
	}
}

// Defaults become the calls' options: a history recorded by code that
// passes every option to each call replays against code that sets them as
// defaults, and the other way round, and both record the same options.
func TestCallDefaultsReplay(t *testing.T) {
	retry := orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Second})
	stc := orchestration.WithStartToCloseTimeout(5 * time.Second)
	hb := orchestration.WithHeartbeatTimeout(time.Second)
	perCall := orchestration.New("checkout", func(ctx orchestration.Context, _ string) (string, error) {
		a, err := orchestration.Call(ctx, probe, "a", retry, stc).Await(ctx)
		if err != nil {
			return "", err
		}
		b, err := orchestration.Go(ctx, func(ctx orchestration.Context) (string, error) {
			return orchestration.Call(ctx, probe, "b", retry, stc, hb).Await(ctx)
		}).Await(ctx)
		return a + b, err
	})
	scoped := orchestration.New("checkout", func(ctx orchestration.Context, _ string) (string, error) {
		ctx = orchestration.WithCallOptions(ctx, retry, stc)
		a, err := orchestration.Call(ctx, probe, "a").Await(ctx)
		if err != nil {
			return "", err
		}
		b, err := orchestration.Go(ctx, func(ctx orchestration.Context) (string, error) {
			return orchestration.Call(ctx, probe, "b", hb).Await(ctx)
		}).Await(ctx)
		return a + b, err
	})
	record := func(o *orchestration.Orchestrator[string, string]) (*bytes.Buffer, map[string]core.ActivityOptions) {
		env := orchestrationtest.New(t)
		env.RegisterActivities(probe)
		out, err := orchestrationtest.Run(env, o, "")
		require.NoError(t, err)
		require.Equal(t, "ab", out)
		var buf bytes.Buffer
		require.NoError(t, env.ExportHistory(&buf))
		return &buf, recordedOptions(t, env)
	}
	perCallHistory, perCallOpts := record(perCall)
	scopedHistory, scopedOpts := record(scoped)
	assert.Equal(t, perCallOpts, scopedOpts)
	assert.Equal(t, perCallHistory.String(), scopedHistory.String())
	for _, tt := range []struct {
		name    string
		history *bytes.Buffer
		code    *orchestration.Orchestrator[string, string]
	}{
		{"per-call history, scoped code", perCallHistory, scoped},
		{"scoped history, per-call code", scopedHistory, perCall},
		{"scoped history, scoped code", scopedHistory, scoped},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, orchestrationtest.ReplayHistory(bytes.NewReader(tt.history.Bytes()), tt.code))
		})
	}
}
