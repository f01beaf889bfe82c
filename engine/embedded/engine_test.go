package embedded_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/internal/bench"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The benchmark workloads double as test orchestrations.
var (
	noop     = bench.Noop
	fanOut   = bench.FanOut
	sequence = bench.Sequence
)

// start opens an engine on a fresh file with a running worker.
func start(t *testing.T, opts embedded.Options, regs ...any) (*embedded.Engine, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	eng, err := embedded.Open(context.Background(), path, opts)
	require.NoError(t, err)
	w := worker.New(eng, worker.Options{})
	w.RegisterActivities(noop)
	w.RegisterOrchestrators(fanOut, sequence)
	for _, r := range regs {
		switch d := r.(type) {
		case orchestration.Definition:
			w.RegisterOrchestrators(d)
		case activity.Definition:
			w.RegisterActivities(d)
		}
	}
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() {
		require.NoError(t, w.Stop(context.Background()))
		require.NoError(t, eng.Close())
	})
	return eng, path
}

func TestFanOutAndSequence(t *testing.T) {
	eng, _ := start(t, embedded.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tt := range []struct {
		o    *orchestration.Orchestrator[int, int]
		n    int
		want int
	}{{fanOut, 1000, 499500}, {sequence, 100, 4950}, {fanOut, 0, 0}} {
		id, err := client.Start(ctx, eng, tt.o, tt.n)
		require.NoError(t, err)
		out, err := client.Result(ctx, eng, tt.o, id)
		require.NoError(t, err)
		assert.Equal(t, tt.want, out)
		st, err := eng.Status(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, client.StatusCompleted, st.RuntimeStatus)
		assert.Equal(t, tt.n, st.ActivitiesDone)
		assert.Equal(t, tt.n, st.ActivitiesTotal)
	}
}

// The inbox is read even while batches are committed back to back: a
// terminate reaches a busy orchestration long before it would finish.
func TestInboxIsNotStarvedByABusyOrchestration(t *testing.T) {
	eng, _ := start(t, embedded.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := client.Start(ctx, eng, sequence, 1_000_000)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := eng.Status(ctx, id)
		return err == nil && st.ActivitiesDone > 100
	}, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, eng.Terminate(ctx, id, "enough"))
	st, err := eng.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusTerminated, st.RuntimeStatus)
	assert.Less(t, st.ActivitiesDone, 1_000_000)
}

// A cache of one instance runs many at once: an instance taken in while
// the others are pinned (their steps being committed) is not evicted
// under its own step; the cache is over capacity until one is unpinned.
func TestCacheOfOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	eng, err := embedded.Open(context.Background(), path, embedded.Options{})
	require.NoError(t, err)
	w := worker.New(eng, worker.Options{CacheSize: 1})
	w.RegisterActivities(noop)
	w.RegisterOrchestrators(fanOut, sequence)
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() {
		require.NoError(t, w.Stop(context.Background()))
		require.NoError(t, eng.Close())
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ids := make([]string, 20)
	for i := range ids {
		o := fanOut
		if i%2 == 1 {
			o = sequence
		}
		ids[i], err = client.Start(ctx, eng, o, 10)
		require.NoError(t, err)
	}
	for _, id := range ids {
		out, err := client.Result(ctx, eng, fanOut, id)
		require.NoError(t, err)
		assert.Equal(t, 45, out)
	}
}
