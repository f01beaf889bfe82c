package embedded_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// sleeps reports how much orchestration time its sleep took.
var sleeps = orchestration.New("sleeps", func(ctx orchestration.Context, d time.Duration) (time.Duration, error) {
	start := ctx.Now()
	if err := orchestration.Sleep(ctx, d); err != nil {
		return 0, err
	}
	return ctx.Now().Sub(start), nil
})

// TestLateTimerNow: a timer that fell due while no worker ran fires at
// the next start, and Now after it is when it fired, not when it was due.
// (If the machine is so slow that the timer fires before the worker is
// stopped, the test tries again with a longer timer.)
func TestLateTimerNow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "app.db")
	eng, err := embedded.Open(ctx, path, embedded.Options{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	defer eng.Close()
	startWorker := func() *worker.Worker {
		w := worker.New(eng, worker.Options{})
		w.RegisterOrchestrators(sleeps)
		require.NoError(t, w.Start(ctx))
		return w
	}
	const down = 500 * time.Millisecond
	for d := 50 * time.Millisecond; ; d *= 4 {
		require.Less(t, d, time.Minute, "the timer always fired before the worker stopped")
		id, err := client.Start(ctx, eng, sleeps, d)
		require.NoError(t, err)
		w := startWorker()
		for { // the timer is created
			st, err := eng.Status(ctx, id)
			require.NoError(t, err)
			if st.RuntimeStatus != client.StatusPending {
				break
			}
			time.Sleep(time.Millisecond)
		}
		require.NoError(t, w.Stop(ctx))
		time.Sleep(down) // the timer falls due while no worker runs
		st, err := eng.Status(ctx, id)
		require.NoError(t, err)
		if st.RuntimeStatus == client.StatusCompleted {
			t.Logf("a %s timer fired before the worker stopped; trying a longer one", d)
			continue
		}
		w = startWorker()
		slept, err := client.Result(ctx, eng, sleeps, id)
		require.NoError(t, w.Stop(ctx))
		require.NoError(t, err)
		assert.GreaterOrEqual(t, slept, down, "Now after the timer is when it fired")
		return
	}
}
