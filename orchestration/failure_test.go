package orchestration_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/internal/activityctx"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

var (
	book   = activity.New("book", func(ctx context.Context, what string) (string, error) { return what + "-booked", nil })
	unbook = activity.New("unbook", func(ctx context.Context, what string) (string, error) { return what + "-released", nil })
)

// saga books three things one after the other and, when canceled or when a
// booking fails, releases what it booked in reverse order.
var saga = orchestration.New("saga", func(ctx orchestration.Context, items []string) ([]string, error) {
	var done, log []string
	var failure error
	for _, it := range items {
		if _, err := orchestration.Call(ctx, book, it).Await(ctx); err != nil {
			failure = err
			break
		}
		done = append(done, it)
		if err := orchestration.Sleep(ctx, time.Hour); err != nil {
			failure = err
			break
		}
	}
	if failure == nil {
		return done, nil
	}
	cleanup := orchestration.WithoutCancel(ctx)
	for i := len(done) - 1; i >= 0; i-- {
		r, err := orchestration.Call(cleanup, unbook, done[i]).Await(cleanup)
		if err != nil {
			return log, err
		}
		log = append(log, r)
	}
	return log, failure
})

func TestSagaCompensation(t *testing.T) {
	t.Run("terminate cancels and compensates", func(t *testing.T) {
		env := orchestrationtest.New(t)
		env.RegisterActivities(book, unbook)
		env.TerminateAfter(90*time.Minute, "user gave up")
		_, err := orchestrationtest.Run(env, saga, []string{"flight", "hotel", "car"})
		require.Error(t, err)
		assert.ErrorIs(t, err, orchestration.ErrCanceled)
		var released []string
		for _, e := range env.History() {
			if e.Type == "ActivityCompleted" && strings.Contains(string(e.Payload), "released") {
				released = append(released, string(e.Payload))
			}
		}
		assert.Equal(t, []string{`"hotel-released"`, `"flight-released"`}, released)
		hist := env.History()
		assert.Equal(t, orchestrationtest.OrchestrationTerminated, hist[len(hist)-1].Type)
	})
	t.Run("failure compensates", func(t *testing.T) {
		env := orchestrationtest.New(t)
		env.RegisterActivities(unbook)
		calls := orchestrationtest.MockActivity(env, book, func(ctx context.Context, what string) (string, error) {
			if what == "car" {
				return "", activity.NewNonRetryableError("SoldOut", "no cars left")
			}
			return what + "-booked", nil
		})
		_, err := orchestrationtest.Run(env, saga, []string{"flight", "hotel", "car"})
		require.Error(t, err)
		assert.True(t, activity.IsType(err, "SoldOut"), err)
		assert.Equal(t, []string{"flight", "hotel", "car"}, calls.Inputs())
	})
}

func TestRetries(t *testing.T) {
	o := orchestration.New("retrying", func(ctx orchestration.Context, policy orchestration.RetryPolicy) (int, error) {
		return orchestration.Call(ctx, flaky, 7, orchestration.WithRetry(policy)).Await(ctx)
	})
	tests := []struct {
		name      string
		policy    orchestration.RetryPolicy
		failTimes int
		errType   string
		wantCalls int
		wantErr   bool
	}{
		{"succeeds on the third attempt", orchestration.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Second}, 2, "Transient", 3, false},
		{"gives up after max attempts", orchestration.RetryPolicy{MaxAttempts: 2}, 5, "Transient", 2, true},
		{"no policy means one attempt", orchestration.RetryPolicy{}, 1, "Transient", 1, true},
		{"non-retryable type stops", orchestration.RetryPolicy{MaxAttempts: 5, NonRetryableErrorTypes: []string{"Fatal"}}, 5, "Fatal", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := orchestrationtest.New(t)
			n := 0
			calls := orchestrationtest.MockActivity(env, flaky, func(ctx context.Context, v int) (int, error) {
				n++
				info, ok := activity.InfoFrom(ctx)
				require.True(t, ok)
				require.Equal(t, n, info.Attempt)
				require.NotEmpty(t, info.RunID)
				require.Equal(t, activityctx.IdempotencyKey("test-instance", info.RunID, 1, n), info.IdempotencyKey)
				if n <= tt.failTimes {
					return 0, activity.NewError(tt.errType, "attempt failed")
				}
				return v, nil
			})
			out, err := orchestrationtest.Run(env, o, tt.policy)
			assert.Equal(t, tt.wantCalls, calls.Count())
			if tt.wantErr {
				require.Error(t, err)
				assert.True(t, activity.IsType(err, tt.errType), err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 7, out)
		})
	}
}

func TestActivityTimeout(t *testing.T) {
	slow := activity.New("slow", func(ctx context.Context, _ struct{}) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	})
	o := orchestration.New("timeouts", func(ctx orchestration.Context, _ struct{}) (int, error) {
		return orchestration.Call(ctx, slow, struct{}{}, orchestration.WithStartToCloseTimeout(10*time.Millisecond)).Await(ctx)
	})
	env := orchestrationtest.New(t)
	env.RegisterActivities(slow)
	_, err := orchestrationtest.Run(env, o, struct{}{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Timeout")
}

func TestBadInputGivesClearErrors(t *testing.T) {
	type big struct{ Data string }
	tests := []struct {
		name    string
		orch    *orchestration.Orchestrator[string, string]
		input   string
		opts    []orchestrationtest.Option
		wantErr []string
	}{
		{"unknown activity", orchestration.New("unknown-activity", func(ctx orchestration.Context, _ string) (string, error) {
			_, err := orchestration.CallNamed[string, string](ctx, "no-such-activity", "x").Await(ctx)
			if !errors.Is(err, orchestration.ErrNotRegistered) {
				return "", errors.New("expected ErrNotRegistered")
			}
			return "", err
		}), "", nil, []string{"ActivityNotFound", `no activity "no-such-activity" is registered`}},
		{"undecodable activity result", orchestration.New("bad-result", func(ctx orchestration.Context, _ string) (string, error) {
			_, err := orchestration.CallNamed[string, int](ctx, "greet", "x").Await(ctx)
			return "", err
		}), "", nil, []string{`result of activity "greet"`, "does not decode into int"}},
		{"undecodable activity input", orchestration.New("bad-input", func(ctx orchestration.Context, _ string) (string, error) {
			_, err := orchestration.CallNamed[big, int](ctx, "double", big{"x"}).Await(ctx)
			return "", err
		}), "", nil, []string{"DecodeError", `input of activity "double"`}},
		{"nil activity", orchestration.New("nil-activity", func(ctx orchestration.Context, _ string) (string, error) {
			var a *activity.Activity[int, int]
			_, err := orchestration.Call(ctx, a, 1).Await(ctx)
			return "", err
		}), "", nil, []string{"nil activity"}},
		{"invalid retry policy", orchestration.New("bad-policy", func(ctx orchestration.Context, _ string) (string, error) {
			_, err := orchestration.Call(ctx, double, 1, orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: -1})).Await(ctx)
			return "", err
		}), "", nil, []string{"MaxAttempts -1 is negative"}},
		{"oversized activity input", orchestration.New("too-big-input", func(ctx orchestration.Context, s string) (string, error) {
			return orchestration.Call(ctx, greet, s+s).Await(ctx)
		}), strings.Repeat("x", 500), []orchestrationtest.Option{orchestrationtest.WithMaxPayload(600)},
			[]string{`input of activity "greet" is 1002 bytes, over the payload limit of 600`}},
		{"oversized output", orchestration.New("too-big-output", func(ctx orchestration.Context, s string) (string, error) {
			return s + s, nil
		}), strings.Repeat("x", 400), []orchestrationtest.Option{orchestrationtest.WithMaxPayload(600)},
			[]string{"PayloadTooLarge", "802 bytes, over the payload limit of 600"}},
		{"panic", orchestration.New("panicky", func(ctx orchestration.Context, _ string) (string, error) {
			var m map[string]int
			m["boom"]++
			return "", nil
		}), "", nil, []string{"Panic", "assignment to entry in nil map"}},
		{"deadlock", orchestration.New("sleepy", func(ctx orchestration.Context, _ string) (string, error) {
			time.Sleep(300 * time.Millisecond)
			return "", nil
		}), "", []orchestrationtest.Option{orchestrationtest.WithDeadlockTimeout(50 * time.Millisecond)}, []string{"[CB1200]", "blocked for 50ms outside the engine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := orchestrationtest.New(t, append(tt.opts, orchestrationtest.WithoutReplayCheck())...)
			env.RegisterActivities(double, greet)
			_, err := orchestrationtest.Run(env, tt.orch, tt.input)
			require.Error(t, err)
			for _, w := range tt.wantErr {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestPanicKeepsTheStack(t *testing.T) {
	o := orchestration.New("panic-stack", func(ctx orchestration.Context, _ string) (string, error) {
		panic("kaboom")
	})
	env := orchestrationtest.New(t)
	_, err := orchestrationtest.Run(env, o, "")
	var fe *orchestrationtest.FailureError
	require.ErrorAs(t, err, &fe)
	require.NotNil(t, fe.Status.Failure)
	assert.Equal(t, "Panic", fe.Status.Failure.Type)
	assert.Contains(t, fe.Status.Failure.Stack, "failure_test.go")
	assert.ErrorIs(t, err, orchestration.ErrPanic)
}

// TestTerminateStopsQueuedAttempts: a retry waiting for its back-off when
// the orchestration is terminated never runs, even while clean-up keeps
// the run alive past its due time; the wait ends canceled.
func TestTerminateStopsQueuedAttempts(t *testing.T) {
	env := orchestrationtest.New(t)
	calls := orchestrationtest.MockActivity(env, flaky, func(ctx context.Context, v int) (int, error) {
		return 0, activity.NewError("Transient", "fails")
	})
	o := orchestration.New("terminated-while-retrying", func(ctx orchestration.Context, _ struct{}) (int, error) {
		v, err := orchestration.Call(ctx, flaky, 1, orchestration.WithRetry(orchestration.RetryPolicy{
			MaxAttempts: 5, InitialInterval: time.Hour})).Await(ctx)
		// Clean-up that outlives the retry's due time.
		if serr := orchestration.Sleep(orchestration.WithoutCancel(ctx), 2*time.Hour); serr != nil {
			return 0, serr
		}
		return v, err
	})
	env.TerminateAfter(30*time.Minute, "stop")
	_, err := orchestrationtest.Run(env, o, struct{}{})
	require.Error(t, err)
	assert.ErrorIs(t, err, orchestration.ErrCanceled)
	assert.Equal(t, 1, calls.Count(), "the retry due at 1h never ran")
}
