package orchestrationtest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/conformance"
	"github.com/cloudbutton/cloudbutton/internal/engine"
	"github.com/cloudbutton/cloudbutton/internal/store/memstore"
	"github.com/cloudbutton/cloudbutton/worker"
)

// harnessEngine runs the conformance suite on what the harness runs: the
// embedded engine over memstore, with the harness's invoker and virtual
// clock. A driver moves the clock on whenever the engine waits only for
// time, as Run does, while the suite's client works in real time.
type harnessEngine struct{}

var (
	_ conformance.Redeployer       = harnessEngine{}
	_ conformance.OptionsStarter   = harnessEngine{}
	_ conformance.OptionsRestarter = harnessEngine{}
)

type harnessServer struct {
	eng   *engine.Engine
	clock *virtualClock
	mu    sync.Mutex
	w     *worker.Worker
}

var harnessServers sync.Map // *engine.Engine -> *harnessServer

func (h harnessEngine) Start(t *testing.T, register func(w *worker.Worker)) client.Client {
	return h.StartWithOptions(t, worker.Options{}, register)
}

func (harnessEngine) StartWithOptions(t *testing.T, opts worker.Options, register func(w *worker.Worker)) client.Client {
	clock := newVirtualClock(time.Now().UTC())
	quiet := slog.New(slog.DiscardHandler)
	eng := engine.New(memstore.New(clock.Now), engine.Options{PollInterval: horizon, Clock: clock, Logger: quiet})
	s := &harnessServer{eng: eng, clock: clock}
	s.startWorker(t, opts, register)
	harnessServers.Store(eng, s)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the driver
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if next, ok := clock.next(); ok && next.Sub(clock.Now()) < horizon/2 && onlyTimeIsLeft(eng, clock) {
				clock.advance()
				continue
			}
			select {
			case <-eng.Changed():
			case <-time.After(time.Millisecond):
			case <-stop:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
		s.mu.Lock()
		w := s.w
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, w.Stop(ctx))
		require.NoError(t, eng.Close())
		harnessServers.Delete(eng)
	})
	return eng
}

func (s *harnessServer) startWorker(t *testing.T, opts worker.Options, register func(w *worker.Worker)) {
	inv := newInvoker(codec.JSON, codec.Limits{}, nil)
	if opts.Invoker == nil { // else the suite's own (a billing one)
		opts.Invoker = inv
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := worker.New(s.eng, opts)
	register(w)
	for _, d := range w.Registry().ActivityDefinitions() {
		inv.defs[d.Name()] = d
	}
	require.NoError(t, w.Start(context.Background()))
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
}

func (harnessEngine) Restart(t *testing.T, c client.Client, register func(w *worker.Worker)) {
	v, ok := harnessServers.Load(c.(*engine.Engine))
	require.True(t, ok, "Restart: the client was not returned by Start")
	s := v.(*harnessServer)
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	require.NoError(t, w.Stop(context.Background()))
	s.startWorker(t, worker.Options{}, register)
}

func (harnessEngine) RestartWithOptions(t *testing.T, c client.Client, opts worker.Options, register func(w *worker.Worker)) {
	v, ok := harnessServers.Load(c.(*engine.Engine))
	require.True(t, ok, "RestartWithOptions: the client was not returned by Start")
	s := v.(*harnessServer)
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	now, cancel := context.WithCancel(context.Background())
	cancel() // at once: attempts in flight are cancelled
	if err := w.Stop(now); !errors.Is(err, context.Canceled) {
		require.NoError(t, err)
	}
	s.startWorker(t, opts, register)
}

// AddWorker restarts: one worker runs per store.
func (h harnessEngine) AddWorker(t *testing.T, c client.Client, register func(w *worker.Worker)) {
	h.Restart(t, c, register)
}

func (harnessEngine) Unsupported(f conformance.Feature) string {
	switch f {
	case conformance.FeatureWallClock:
		return "the harness's time is virtual: it jumps to the next timer when the engine waits only for time"
	case conformance.FeatureSuspendReason:
		return "the embedded store keeps no suspend reason"
	}
	return ""
}

// TestConformance runs the engines' behavioural suite on the harness.
func TestConformance(t *testing.T) { conformance.Run(t, harnessEngine{}) }

var _ conformance.WorkerStopper = harnessEngine{}

// StopWorker stops the harness's worker (Cleanup's Stop is then a no-op).
func (harnessEngine) StopWorker(t *testing.T, c client.Client) {
	v, ok := harnessServers.Load(c.(*engine.Engine))
	require.True(t, ok, "StopWorker: the client was not returned by Start")
	s := v.(*harnessServer)
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	require.NoError(t, w.Stop(context.Background()))
}
