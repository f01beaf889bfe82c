package embedded_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var incr = activity.New("incr", func(ctx context.Context, n int) (int, error) { return n + 1, nil })

const longSeqSteps = 3000

// longSeq is a sequence long enough to be running when it is suspended.
var longSeq = orchestration.New("long-seq", func(ctx orchestration.Context, n int) (int, error) {
	for range longSeqSteps {
		var err error
		if n, err = orchestration.Call(ctx, incr, n).Await(ctx); err != nil {
			return 0, err
		}
	}
	return n, nil
})

// suspendWorker opens path with a worker of longSeq and waitsForGo.
func suspendWorker(t *testing.T, ctx context.Context, path string) *embedded.Engine {
	t.Helper()
	eng, err := embedded.Open(ctx, path, embedded.Options{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(longSeq, waitsForGo)
	w.RegisterActivities(incr)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() { _ = w.Stop(context.Background()); _ = eng.Close() })
	return eng
}

func historyLen(t *testing.T, ctx context.Context, c client.Client, id string) int {
	t.Helper()
	var n countingWriter
	require.NoError(t, c.ExportHistory(ctx, id, &n))
	return int(n)
}

type countingWriter int

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

// TestSuspendStopsSteps: a suspended instance takes no step, whether the
// client that suspends it is in the worker's process or another one, and
// completes once resumed. Before, an instance with steps in flight went
// on stepping and ended Completed over its Suspended status.
func TestSuspendStopsSteps(t *testing.T) {
	for _, elsewhere := range []bool{false, true} {
		name := map[bool]string{false: "same process", true: "other process"}[elsewhere]
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			path := filepath.Join(t.TempDir(), "app.db")
			eng := suspendWorker(t, ctx, path)
			var c client.Client = eng
			if elsewhere {
				other, err := embedded.Open(ctx, path, embedded.Options{})
				require.NoError(t, err)
				defer other.Close()
				c = other
			}
			id, err := client.Start(ctx, c, longSeq, 0)
			require.NoError(t, err)
			for historyLen(t, ctx, c, id) < 2000 { // it is stepping
				time.Sleep(time.Millisecond)
			}
			require.NoError(t, c.Suspend(ctx, id, "test"))
			before := historyLen(t, ctx, c, id)
			if elsewhere { // the worker stops at its next poll: wait until it did
				for {
					time.Sleep(100 * time.Millisecond)
					n := historyLen(t, ctx, c, id)
					if n == before {
						break
					}
					before = n
				}
			}
			time.Sleep(200 * time.Millisecond)
			assert.Equal(t, before, historyLen(t, ctx, c, id), "no step while suspended")
			st, err := c.Status(ctx, id)
			require.NoError(t, err)
			require.Equal(t, client.StatusSuspended, st.RuntimeStatus)

			require.NoError(t, c.Resume(ctx, id, "test"))
			got, err := client.Result(ctx, c, longSeq, id)
			require.NoError(t, err)
			assert.Equal(t, longSeqSteps, got)
		})
	}
}

// TestResumeFromOtherProcess: an instance that a worker loaded while it
// was suspended (here: at the worker's start) runs once a client of
// another process resumes it. Before, it stayed Running forever.
func TestResumeFromOtherProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "app.db")
	other, err := embedded.Open(ctx, path, embedded.Options{})
	require.NoError(t, err)
	defer other.Close()
	first, err := embedded.Open(ctx, path, embedded.Options{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	w := worker.New(first, worker.Options{})
	w.RegisterOrchestrators(waitsForGo)
	require.NoError(t, w.Start(ctx))
	id, err := client.Start(ctx, other, waitsForGo, struct{}{})
	require.NoError(t, err)
	for { // it waits for its event
		st, err := other.Status(ctx, id)
		require.NoError(t, err)
		if st.RuntimeStatus == client.StatusRunning {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, other.Suspend(ctx, id, "test"))
	require.NoError(t, w.Stop(ctx))
	require.NoError(t, first.Close())

	suspendWorker(t, ctx, path) // loads it suspended
	require.NoError(t, client.RaiseEvent(ctx, other, id, "go", "resumed"))
	require.NoError(t, other.Resume(ctx, id, "test"))
	got, err := client.Result(ctx, other, waitsForGo, id)
	require.NoError(t, err)
	assert.Equal(t, "resumed", got)
}
