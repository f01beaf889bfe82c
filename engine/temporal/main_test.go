package temporal_test

import (
	"context"
	"fmt"
	"log/slog"
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
func startWorker(t testing.TB, eng *temporal.Engine, register func(*worker.Worker)) {
	t.Helper()
	w := worker.New(eng, worker.Options{Logger: quietLogger()})
	register(w)
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, w.Stop(ctx))
	})
}

type conformanceEngine struct{}

func (conformanceEngine) Start(t *testing.T, register func(*worker.Worker)) client.Client {
	eng := openEngine(t, temporal.Options{})
	startWorker(t, eng, register)
	return eng
}

func (conformanceEngine) Unsupported(f conformance.Feature) string {
	if f == conformance.FeatureSuspend {
		return "Temporal has no suspend/resume of workflow executions; the Temporal engine returns temporal.ErrUnsupported"
	}
	return ""
}

func TestConformance(t *testing.T) {
	conformance.Run(t, conformanceEngine{})
}
