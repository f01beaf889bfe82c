package temporal_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var (
	rrEngine   atomic.Pointer[temporal.Engine]
	rrFixed    atomic.Bool
	rrBuggy    atomic.Int64
	rrLate     atomic.Int64
	rrInstance atomic.Value // string
)

// rrBug fails until fixed.
var rrBug = activity.New("rr-bug", func(ctx context.Context, _ int) (int, error) {
	rrBuggy.Add(1)
	if !rrFixed.Load() {
		return 0, activity.NewNonRetryableError("Bug", "the bug")
	}
	return 1, nil
})

// rrLateOK succeeds, the first time only once rr-bug's failure is in the
// workflow's history: its result comes after the first failure.
var rrLateOK = activity.New("rr-late", func(ctx context.Context, _ int) (int, error) {
	if rrLate.Add(1) == 1 {
		eng, id := rrEngine.Load(), rrInstance.Load().(string)
		for {
			h, err := eng.History(ctx, id)
			if err != nil {
				return 0, err
			}
			for _, ev := range h.GetEvents() {
				if ev.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED {
					return 2, nil
				}
			}
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(20 * time.Millisecond): // polls for a condition
			}
		}
	}
	return 2, nil
})

var rrFanOut = orchestration.New("rr-fan-out", func(ctx orchestration.Context, _ struct{}) (int, error) {
	vs, err := orchestration.All(ctx, orchestration.Call(ctx, rrBug, 0), orchestration.Call(ctx, rrLateOK, 0)).Await(ctx)
	if err != nil {
		return 0, err
	}
	return vs[0] + vs[1], nil
})

// TestRewindRerunsLateResults shows what Rewind on Temporal does not
// keep: the result of an activity that succeeded after the first failure
// (reset keeps nothing past its reset point), so that activity runs again;
// the embedded engine keeps it (conformance case RewindFanOut).
func TestRewindRerunsLateResults(t *testing.T) {
	eng := openEngine(t, temporal.Options{TaskQueue: uniqueQueue("rr")})
	rrEngine.Store(eng)
	startWorker(t, eng, func(w *worker.Worker) {
		w.RegisterOrchestrators(rrFanOut)
		w.RegisterActivities(rrBug, rrLateOK)
	})
	ctx := testCtx(t)
	id := uniqueQueue("rr-instance")
	rrInstance.Store(id)
	_, err := client.Start(ctx, eng, rrFanOut, struct{}{}, client.WithInstanceID(id))
	require.NoError(t, err)
	st, err := eng.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, client.StatusFailed, st.RuntimeStatus)
	require.EqualValues(t, 1, rrLate.Load())

	rrFixed.Store(true)
	require.NoError(t, eng.Rewind(ctx, id, "fixed"))
	got, err := client.Result(ctx, eng, rrFanOut, id)
	require.NoError(t, err)
	assert.Equal(t, 3, got)
	assert.EqualValues(t, 2, rrBuggy.Load(), "the failed activity runs again")
	assert.EqualValues(t, 2, rrLate.Load(), "Temporal: the activity that succeeded after the first failure runs again too")

	err = eng.Rewind(ctx, id, "again")
	assert.ErrorIs(t, err, client.ErrNotRewindable, "a Completed instance")
}
