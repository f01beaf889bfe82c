package embedded_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/internal/conformance"
	"github.com/cloudbutton/cloudbutton/worker"
)

// conformanceEngine runs the suite on a fresh SQLite file per case. One
// worker runs per file, so a redeploy (Restart or AddWorker) stops it and
// starts the new code's worker on the same file.
type conformanceEngine struct{}

var (
	_ conformance.Redeployer     = conformanceEngine{}
	_ conformance.OptionsStarter = conformanceEngine{}
)

// conformanceWorkers is the worker running on each engine of the suite.
var conformanceWorkers sync.Map // *embedded.Engine -> *worker.Worker

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func (ce conformanceEngine) Start(t *testing.T, register func(w *worker.Worker)) client.Client {
	return ce.StartWithOptions(t, worker.Options{}, register)
}

func (conformanceEngine) StartWithOptions(t *testing.T, opts worker.Options, register func(w *worker.Worker)) client.Client {
	eng, err := embedded.Open(context.Background(), filepath.Join(t.TempDir(), "conformance.db"), embedded.Options{Logger: quiet()})
	require.NoError(t, err)
	startConformanceWorker(t, eng, opts, register)
	t.Cleanup(func() {
		if v, ok := conformanceWorkers.LoadAndDelete(eng); ok {
			require.NoError(t, v.(*worker.Worker).Stop(context.Background()))
		}
		require.NoError(t, eng.Close())
	})
	return eng
}

func startConformanceWorker(t *testing.T, eng *embedded.Engine, opts worker.Options, register func(w *worker.Worker)) {
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	w := worker.New(eng, opts)
	register(w)
	require.NoError(t, w.Start(context.Background()))
	conformanceWorkers.Store(eng, w)
}

func (conformanceEngine) Restart(t *testing.T, c client.Client, register func(w *worker.Worker)) {
	eng := c.(*embedded.Engine)
	v, ok := conformanceWorkers.LoadAndDelete(eng)
	require.True(t, ok, "Restart: the client was not returned by Start")
	require.NoError(t, v.(*worker.Worker).Stop(context.Background()))
	startConformanceWorker(t, eng, worker.Options{}, register)
}

func (conformanceEngine) RestartWithOptions(t *testing.T, c client.Client, opts worker.Options, register func(w *worker.Worker)) {
	eng := c.(*embedded.Engine)
	v, ok := conformanceWorkers.LoadAndDelete(eng)
	require.True(t, ok, "RestartWithOptions: the client was not returned by Start")
	now, cancel := context.WithCancel(context.Background())
	cancel() // at once: attempts in flight are cancelled
	if err := v.(*worker.Worker).Stop(now); !errors.Is(err, context.Canceled) {
		require.NoError(t, err)
	}
	startConformanceWorker(t, eng, opts, register)
}

// AddWorker restarts: one worker runs per database file.
func (ce conformanceEngine) AddWorker(t *testing.T, c client.Client, register func(w *worker.Worker)) {
	ce.Restart(t, c, register)
}

func (conformanceEngine) Unsupported(f conformance.Feature) string {
	if f == conformance.FeatureSuspendReason {
		return "the embedded store keeps no suspend reason"
	}
	return ""
}

func TestConformance(t *testing.T) { conformance.Run(t, conformanceEngine{}) }

var _ conformance.WorkerStopper = conformanceEngine{}

// StopWorker stops the file's worker (and releases its lock).
func (conformanceEngine) StopWorker(t *testing.T, c client.Client) {
	v, ok := conformanceWorkers.LoadAndDelete(c.(*embedded.Engine))
	require.True(t, ok, "StopWorker: the client was not returned by Start")
	require.NoError(t, v.(*worker.Worker).Stop(context.Background()))
}
