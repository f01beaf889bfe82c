package embedded_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var gauge = orchestration.New("gauge", func(ctx orchestration.Context, n int) (int, error) {
	err := errors.Join(
		orchestration.HandleQuery(ctx, "value", func(struct{}) (int, error) { return n, nil }),
		orchestration.HandleUpdate(ctx, "set", func(_ orchestration.Context, v int) (int, error) {
			n = v
			return n, nil
		}))
	if err != nil {
		return 0, err
	}
	_, err = orchestration.WaitEvent[struct{}](ctx, "stop", 0).Await(ctx)
	return n, err
})

// TestHandlersNeedTheWorkersProcess: a client of a process without the
// worker (here a second engine on the file) is told where to send
// queries and updates, and nothing is recorded.
func TestHandlersNeedTheWorkersProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	eng, err := embedded.Open(ctx, path, embedded.Options{Logger: quiet()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, eng.Close()) })
	w := worker.New(eng, worker.Options{Logger: quiet()})
	w.RegisterOrchestrators(gauge)
	require.NoError(t, w.Start(ctx))
	id, err := client.Start(ctx, eng, gauge, 1)
	require.NoError(t, err)

	other, err := embedded.Open(ctx, path, embedded.Options{Logger: quiet()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, other.Close()) })
	before := exportOf(ctx, t, eng, id)
	tests := []struct {
		name string
		call func() error
	}{
		{"query", func() error { _, err := client.Query[int](ctx, other, id, "value", struct{}{}); return err }},
		{"update", func() error { _, err := client.Update[int](ctx, other, id, "set", 2); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.ErrorIs(t, err, client.ErrNotRunning)
			require.ErrorIs(t, err, embedded.ErrNoWorkerHere)
			assert.ErrorContains(t, err, "no worker runs in this one")
			assert.ErrorContains(t, err, id)
		})
	}
	assert.Equal(t, before, exportOf(ctx, t, eng, id), "nothing recorded")
	v, err := client.Update[int](ctx, eng, id, "set", 3)
	require.NoError(t, err, "the worker's process is answered")
	assert.Equal(t, 3, v)
}

func exportOf(ctx context.Context, t *testing.T, c client.Client, id string) string {
	t.Helper()
	var b bytesBuffer
	require.NoError(t, c.ExportHistory(ctx, id, &b))
	return b.String()
}
