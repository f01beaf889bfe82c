package temporal_test

import (
	"context"
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

var square = activity.New("square", func(ctx context.Context, x int) (int, error) { return x * x, nil })

// bigFanOut is ordinary orchestrator code: n activities, then a fan-in.
var bigFanOut = orchestration.New("big-fan-out", func(ctx orchestration.Context, n int) (int, error) {
	fs := make([]orchestration.Future[int], n)
	for i := range fs {
		fs[i] = orchestration.Call(ctx, square, i%100)
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

func expectedSquares(n int) int {
	sum := 0
	for i := range n {
		sum += (i % 100) * (i % 100)
	}
	return sum
}

// TestLargeFanOutBatches runs a fan-out past MaxPendingActivities: the
// excess runs in batch child workflows, the result is the same, and the
// orchestration's own history stays bounded.
func TestLargeFanOutBatches(t *testing.T) {
	cases := []struct {
		name               string
		n, maxPending, bsz int
		wantBatches        int
	}{
		{"under the bound", 30, 50, 10, 0},
		{"over the bound", 95, 20, 25, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eng := openEngine(t, temporal.Options{MaxPendingActivities: c.maxPending, BatchSize: c.bsz})
			startWorker(t, eng, func(w *worker.Worker) {
				w.RegisterOrchestrators(bigFanOut)
				w.RegisterActivities(square)
			})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			id, err := client.Start(ctx, eng, bigFanOut, c.n)
			require.NoError(t, err)
			got, err := client.Result(ctx, eng, bigFanOut, id)
			require.NoError(t, err)
			assert.Equal(t, expectedSquares(c.n), got)

			h, err := eng.History(ctx, id)
			require.NoError(t, err)
			var acts, children int
			for _, ev := range h.GetEvents() {
				switch ev.GetEventType() {
				case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
					acts++
				case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
					children++
				}
			}
			assert.Equal(t, c.n-c.wantBatches*c.bsz, acts, "direct activities")
			assert.Equal(t, c.wantBatches, children, "batch child workflows")
			as, err := eng.ActivityAttempts(ctx, id)
			require.NoError(t, err)
			require.Len(t, as, c.n, "the batches' activities are the orchestration's")
			for i, a := range as {
				if i > 0 {
					assert.Less(t, as[i-1].TaskID, a.TaskID, "one attempt per call, in schedule order")
				}
				assert.Equal(t, "square", a.Name)
				assert.Equal(t, client.AttemptCompleted, a.State)
				assert.False(t, a.ScheduledAt.IsZero() || a.StartedAt.IsZero() || a.FinishedAt.IsZero(), "%+v", a)
			}
			list, err := eng.List(ctx, client.Filter{})
			require.NoError(t, err)
			for _, s := range list {
				assert.NotEqual(t, temporal.BatchWorkflowName, s.Name, "List leaves batch workflows out")
			}
		})
	}
}

// TestFanOut10000 is the fan-out Temporal refuses in one workflow (over
// 2,000 pending activities): through the engine it completes unchanged.
func TestFanOut10000(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10,000-activity fan-out takes a minute or so on the dev server")
	}
	eng := openEngine(t, temporal.Options{})
	startWorker(t, eng, func(w *worker.Worker) {
		w.RegisterOrchestrators(bigFanOut)
		w.RegisterActivities(square)
	})
	// Bounded by lack of progress, not by elapsed time: a loaded machine
	// is slower, a stuck fan-out makes no progress.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 10000
	id, err := client.Start(ctx, eng, bigFanOut, n)
	require.NoError(t, err)
	waitProgressing(t, ctx, eng, id, 2*time.Minute)
	got, err := client.Result(ctx, eng, bigFanOut, id)
	require.NoError(t, err)
	assert.Equal(t, expectedSquares(n), got)
}

// waitProgressing waits until the instance ends, failing the test when its
// count of finished activities stays the same for stall.
func waitProgressing(t *testing.T, ctx context.Context, c client.Client, id string, stall time.Duration) {
	t.Helper()
	last, since := -1, time.Now()
	for {
		st, err := c.Status(ctx, id)
		require.NoError(t, err)
		if st.RuntimeStatus.Terminal() {
			return
		}
		if st.ActivitiesDone != last {
			last, since = st.ActivitiesDone, time.Now()
		} else if time.Since(since) > stall {
			t.Fatalf("instance %s made no progress for %s (%d of %d activities done)", id, stall, st.ActivitiesDone, st.ActivitiesTotal)
		}
		time.Sleep(2 * time.Second)
	}
}
