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

var awaitsGo = orchestration.New("awaits-go", func(ctx orchestration.Context, _ struct{}) (bool, error) {
	return orchestration.WaitEvent[bool](ctx, "go", 0).Await(ctx)
})

// TestExplainFromAnotherProcess: a client of the same file without the
// worker (as the CLI is) sees that a worker runs, and cannot tell which
// event the code waits for; the worker's engine can.
func TestExplainFromAnotherProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "explain.db")
	open := func() *embedded.Engine {
		eng, err := embedded.Open(ctx, path, embedded.Options{Logger: quiet()})
		require.NoError(t, err)
		t.Cleanup(func() { _ = eng.Close() })
		return eng
	}
	here, other := open(), open()
	w := worker.New(here, worker.Options{Logger: quiet()})
	w.RegisterOrchestrators(awaitsGo)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() { _ = w.Stop(context.Background()) })
	id, err := client.Start(ctx, here, awaitsGo, struct{}{})
	require.NoError(t, err)
	kinds := func(c client.Client) []client.WaitKind {
		x, err := client.Explain(ctx, c, id)
		require.NoError(t, err)
		var out []client.WaitKind
		for _, w := range x.Waits {
			out = append(out, w.Kind)
		}
		return out
	}
	require.Eventually(t, func() bool { return len(kinds(here)) > 0 }, 30*time.Second, 5*time.Millisecond)
	assert.Equal(t, []client.WaitKind{client.WaitEvent}, kinds(here))
	assert.Equal(t, []client.WaitKind{client.WaitUnknown}, kinds(other), "a worker runs, which event only its process knows")
	require.NoError(t, w.Stop(ctx))
	assert.Equal(t, []client.WaitKind{client.WaitWorker, client.WaitEvent}, kinds(here), "the stopped worker's process still knows")
	assert.Equal(t, []client.WaitKind{client.WaitWorker, client.WaitUnknown}, kinds(other))
}
