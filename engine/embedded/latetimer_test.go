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

// sleepsBriefly reports how much orchestration time its 50 ms sleep took.
var sleepsBriefly = orchestration.New("sleeps-briefly", func(ctx orchestration.Context, _ struct{}) (time.Duration, error) {
	start := ctx.Now()
	if err := orchestration.Sleep(ctx, 50*time.Millisecond); err != nil {
		return 0, err
	}
	return ctx.Now().Sub(start), nil
})

// TestLateTimerNow: a timer that fell due while no worker ran fires at
// the next start, and Now after it is when it fired, not when it was due.
func TestLateTimerNow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "app.db")
	eng, err := embedded.Open(ctx, path, embedded.Options{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	defer eng.Close()
	id, err := client.Start(ctx, eng, sleepsBriefly, struct{}{})
	require.NoError(t, err)

	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(sleepsBriefly)
	require.NoError(t, w.Start(ctx))
	for { // the timer is created
		st, err := eng.Status(ctx, id)
		require.NoError(t, err)
		if st.RuntimeStatus == client.StatusRunning {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, w.Stop(ctx))
	const down = 500 * time.Millisecond
	time.Sleep(down) // the timer falls due while no worker runs

	w = worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(sleepsBriefly)
	require.NoError(t, w.Start(ctx))
	defer w.Stop(context.Background())
	slept, err := client.Result(ctx, eng, sleepsBriefly, id)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, slept, down, "Now after the timer is when it fired")
}
