package temporal_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/internal/conformance"
	"github.com/cloudbutton/cloudbutton/internal/temporaltest"
	"github.com/cloudbutton/cloudbutton/worker"
)

// TestMain runs the package on one dev server and fails the run if
// goroutines outlive it: every worker and client the tests start must be
// stopped.
func TestMain(m *testing.M) {
	temporaltest.Main(m, func() error {
		if err := goleak.Find(); err != nil {
			return fmt.Errorf("goleak: %w", err)
		}
		return nil
	})
}

var queues atomic.Int64

// quietLogger keeps test output readable; set -v to see warnings.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{}, &slog.HandlerOptions{Level: slog.LevelError}))
}

type testWriter struct{}

func (testWriter) Write(p []byte) (int, error) { return len(p), nil }

// openEngine opens an engine on the shared dev server with a task queue
// of its own, closed in t.Cleanup.
func openEngine(t testing.TB, opts temporal.Options) *temporal.Engine {
	t.Helper()
	srv := temporaltest.Require(t)
	opts.HostPort = srv.HostPort
	if opts.TaskQueue == "" {
		opts.TaskQueue = fmt.Sprintf("tq-%d-%d", time.Now().UnixNano(), queues.Add(1))
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	eng, err := temporal.Open(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	return eng
}

// startWorker starts a worker on eng, stopped in t.Cleanup.
func startWorker(t testing.TB, eng *temporal.Engine, register func(*worker.Worker)) *worker.Worker {
	t.Helper()
	return startWorkerWith(t, eng, worker.Options{}, register)
}

// startWorkerWith is startWorker with worker options.
func startWorkerWith(t testing.TB, eng *temporal.Engine, opts worker.Options, register func(*worker.Worker)) *worker.Worker {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	w := worker.New(eng, opts)
	register(w)
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() { stopWorker(t, w) })
	return w
}

func stopWorker(t testing.TB, w *worker.Worker) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, w.Stop(ctx))
}

// conformanceEngine runs the suite with a task queue per case. It
// implements conformance.Redeployer and conformance.OptionsStarter.
type conformanceEngine struct{}

var (
	_ conformance.Redeployer     = conformanceEngine{}
	_ conformance.OptionsStarter = conformanceEngine{}
)

// conformanceWorkers are the workers serving each engine the suite
// started, for Restart.
var conformanceWorkers sync.Map // *temporal.Engine -> *[]*worker.Worker

func (ce conformanceEngine) Start(t *testing.T, register func(*worker.Worker)) client.Client {
	return ce.StartWithOptions(t, worker.Options{}, register)
}

func (conformanceEngine) StartWithOptions(t *testing.T, opts worker.Options, register func(*worker.Worker)) client.Client {
	eng := openEngine(t, temporal.Options{})
	ws := []*worker.Worker{startWorkerWith(t, eng, opts, register)}
	conformanceWorkers.Store(eng, &ws)
	t.Cleanup(func() { conformanceWorkers.Delete(eng) })
	return eng
}

func (conformanceEngine) Restart(t *testing.T, c client.Client, register func(*worker.Worker)) {
	eng := c.(*temporal.Engine)
	v, ok := conformanceWorkers.Load(eng)
	require.True(t, ok, "Restart: the client was not returned by Start")
	ws := v.(*[]*worker.Worker)
	for _, w := range *ws {
		stopWorker(t, w)
	}
	*ws = []*worker.Worker{startWorker(t, eng, register)}
}

// AddWorker deploys a worker on the same task queue, through an engine of
// its own (another process), then stops the previous ones, as a rolling
// deploy does. (While a worker that lacks a workflow type keeps polling,
// Temporal offers it that type's retried workflow tasks too: each such
// attempt fails by timing out, 10s and more, so the suite does not wait
// for the new worker to win them.)
func (conformanceEngine) AddWorker(t *testing.T, c client.Client, register func(*worker.Worker)) {
	eng := c.(*temporal.Engine)
	v, ok := conformanceWorkers.Load(eng)
	require.True(t, ok, "AddWorker: the client was not returned by Start")
	other := openEngine(t, temporal.Options{TaskQueue: eng.Options().TaskQueue})
	next := startWorker(t, other, register)
	ws := v.(*[]*worker.Worker)
	for _, w := range *ws {
		stopWorker(t, w)
	}
	*ws = []*worker.Worker{next}
}

func (conformanceEngine) Unsupported(f conformance.Feature) string {
	if f == conformance.FeatureEveryAttempt {
		return "Temporal keeps only an activity's last attempt and the failure of the one before"
	}
	if f == conformance.FeatureRewindKeepsEveryResult {
		return "Temporal's reset keeps no result recorded after the reset point: activities that succeeded after the first failure, and a failed child's steps, run again (TestRewindRerunsLateResults)"
	}
	if f == conformance.FeatureStartKeys {
		return "deduplicated and debounced starts are not mapped onto Temporal yet: they are refused with ErrUnsupported (see the engine/temporal package doc)"
	}
	if f == conformance.FeatureKeyLimits {
		return "key limits are not mapped onto Temporal yet: a worker with KeyLimits is refused (see the engine/temporal package doc)"
	}
	return ""
}

func TestConformance(t *testing.T) {
	conformance.Run(t, conformanceEngine{})
}
