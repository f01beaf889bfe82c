package conformance

import (
	"context"
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

// ikLog records, per instance id, the input each idempotency key and
// task key was first seen with, and every collision.
type ikLog struct {
	mu         sync.Mutex
	keys       map[string]string
	tasks      map[string]string
	collisions []string
}

var ikLogs sync.Map // instance id -> *ikLog

func (l *ikLog) record(kind string, seen map[string]string, key, input string) {
	if prev, ok := seen[key]; ok && prev != input {
		l.collisions = append(l.collisions, fmt.Sprintf("%s %q covers %q and %q", kind, key, prev, input))
	}
	seen[key] = input
}

var ikRecord = activity.New("ik-record", func(ctx context.Context, input string) (string, error) {
	info, _ := activity.InfoFrom(ctx)
	v, _ := ikLogs.LoadOrStore(info.InstanceID, &ikLog{keys: map[string]string{}, tasks: map[string]string{}})
	l := v.(*ikLog)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.record("idempotency key", l.keys, info.IdempotencyKey, input)
	l.record("task key", l.tasks, info.TaskKey(), input)
	return input, nil
})

type ikIn struct{ Start, Generation int }

const ikGenerations = 3

// ikRuns calls ikRecord once per generation, with an input of its own,
// over ikGenerations continue-as-new generations.
var ikRuns = orchestration.New("ik-runs", func(ctx orchestration.Context, in ikIn) (int, error) {
	if _, err := orchestration.Call(ctx, ikRecord, fmt.Sprintf("start %d generation %d", in.Start, in.Generation)).Await(ctx); err != nil {
		return 0, err
	}
	if in.Generation < ikGenerations-1 {
		return 0, orchestration.ContinueAsNew(ctx, ikIn{Start: in.Start, Generation: in.Generation + 1})
	}
	return in.Generation, nil
})

// testIdempotencyKeysPerRun: every run has keys of its own. An activity's
// idempotency key and task key never cover two different inputs: not
// across continue-as-new generations, not across runs of a reused
// instance id, not after a purge. Before, on embedded and in the harness,
// the key was "<instance>/<task>/<attempt>" in every generation.
func testIdempotencyKeysPerRun(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(ikRuns)
		w.RegisterActivities(ikRecord)
	})
	id := "ik-" + t.Name()
	starts := 2
	for s := range starts + 1 {
		if s == starts {
			if reason := e.Unsupported(FeaturePurge); reason != "" {
				t.Logf("a run after a purge not checked: %s", reason)
				break
			}
			require.NoError(t, c.Purge(ctx, id))
		}
		_, err := client.Start(ctx, c, ikRuns, ikIn{Start: s}, client.WithInstanceID(id))
		require.NoError(t, err)
		got, err := client.Result(ctx, c, ikRuns, id)
		require.NoError(t, err)
		require.Equal(t, ikGenerations-1, got)
	}
	v, ok := ikLogs.Load(id)
	require.True(t, ok, "the activity ran")
	l := v.(*ikLog)
	l.mu.Lock()
	defer l.mu.Unlock()
	assert.Empty(t, l.collisions, "keys are unique per run")
	assert.GreaterOrEqual(t, len(l.keys), starts*ikGenerations, "one key per attempt of each run")
}

// cdRetrying sets its retry policy once, for every call, with
// WithCallOptions; a Go coroutine inherits it, and a call's own option
// overrides it.
var cdRetrying = orchestration.New("call-defaults", func(ctx orchestration.Context, _ struct{}) ([]int, error) {
	ctx = orchestration.WithCallOptions(ctx, orchestration.WithRetry(orchestration.RetryPolicy{
		MaxAttempts: 5, InitialInterval: 10 * time.Millisecond, BackoffCoefficient: 1,
	}))
	direct := orchestration.Call(ctx, flaky, 1)
	inGo := orchestration.Go(ctx, func(ctx orchestration.Context) (int, error) {
		return orchestration.Call(ctx, flaky, 2).Await(ctx)
	})
	_, overridden := orchestration.Call(ctx, flaky, 3, orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 1})).Await(ctx)
	var out []int
	for _, f := range []orchestration.Future[int]{direct, inGo} {
		n, err := f.Await(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if !activity.IsType(overridden, "Transient") {
		return nil, fmt.Errorf("the call's own policy (one attempt) should fail: got %v", overridden)
	}
	return out, nil
})

// testCallDefaults: default call options set on the context apply to
// every call on every engine.
func testCallDefaults(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(cdRetrying)
		w.RegisterActivities(flaky)
	})
	id, err := client.Start(ctx, c, cdRetrying, struct{}{})
	require.NoError(t, err)
	got, err := client.Result(ctx, c, cdRetrying, id)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 3}, got, "the default policy retried both calls to their third attempt")
}
