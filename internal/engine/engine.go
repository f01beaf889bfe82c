package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Options configures an Engine. The zero value is usable.
type Options struct {
	// Codec encodes payloads (default codec.JSON).
	Codec codec.Codec
	// MaxPayload bounds every payload in bytes (default
	// codec.DefaultMaxPayload).
	MaxPayload int
	// PollInterval is how often the worker looks for work written by
	// other processes (default 100ms).
	PollInterval time.Duration
	// DeadlockTimeout bounds how long orchestrator code may run without
	// yielding (default 2s).
	DeadlockTimeout time.Duration
	// Logger receives the engine's logs (default slog.Default()).
	Logger *slog.Logger
	// CheckNames refuses starts of orchestrators no worker registers.
	CheckNames bool
	// Clock is the engine's time (default the wall clock).
	Clock Clock
	// RunIDs returns the id of each new run (default replay.NewRunID,
	// random); the test harness numbers them, so that its histories are
	// the same on every run of a test.
	RunIDs func() string
}

// Engine is the embedded engine's machinery over a store: a worker that
// runs orchestrations and activities in this process, and a client usable
// from this or any other process on the same store. The public engine
// (engine/embedded, on SQLite) and the test harness (orchestrationtest, on
// memstore with a virtual clock) run it. It is safe for concurrent use.
type Engine struct {
	opts  Options
	store store.Store
	clock Clock
	// progress and changed are the work counters' (see work).
	progress atomic.Uint64
	changed  chan struct{}
	log      *slog.Logger

	mu       sync.Mutex
	reg      *worker.Registry // the running worker's, for name checks
	proc     *processor
	sched    *scheduler // the running worker's (scheduler.go)
	watchers map[string][]chan struct{}
	// updates are the updates clients of this process wait for, by
	// update id (see handlers.go).
	updates map[string]*updateWaiter
	closed  bool
	// stopWorker stops the running worker and releases its lock.
	stopWorker func(context.Context) error
	// eventWaits holds, by instance id, the unanswered waits for
	// external events of the instances this process's worker stepped
	// ([]replay.EventWait), for Explain; a worker's start empties it.
	eventWaits sync.Map
}

var (
	_ worker.Engine = (*Engine)(nil)
	_ client.Client = (*Engine)(nil)
)

// New returns an engine over st, which it owns (Close closes it).
func New(st store.Store, opts Options) *Engine {
	if opts.Codec == nil {
		opts.Codec = codec.JSON
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RunIDs == nil {
		opts.RunIDs = replay.NewRunID
	}
	if opts.Clock == nil {
		opts.Clock = WallClock
	}
	return &Engine{opts: opts, store: st, clock: opts.Clock, log: opts.Logger, watchers: map[string][]chan struct{}{},
		changed: make(chan struct{}, 1)}
}

// Codec implements client.Client.
func (e *Engine) Codec() codec.Codec { return e.opts.Codec }

func (e *Engine) limits() codec.Limits { return codec.Limits{MaxPayload: e.opts.MaxPayload} }

// Close stops the worker if it runs (releasing its lock) and closes the
// store.
func (e *Engine) Close() error {
	e.mu.Lock()
	stop := e.stopWorker
	e.closed = true
	e.mu.Unlock()
	if stop != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = stop(ctx)
	}
	return e.store.Close()
}

// name names the store in logs.
func (e *Engine) name() string {
	if n, ok := e.store.(interface{ Path() string }); ok {
		return n.Path()
	}
	return "memory"
}

// Store returns the engine's store.
func (e *Engine) Store() store.Store { return e.store }

// StartWorker implements worker.Engine: one worker per store, enforced
// by the store's worker lock.
func (e *Engine) StartWorker(ctx context.Context, reg *worker.Registry, opts worker.Options) (func(context.Context) error, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, client.ErrEngineClosed
	}
	if e.proc != nil {
		return nil, errors.New("embedded: a worker is already running on this engine")
	}
	release, err := e.store.LockWorker()
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if err := e.store.SetRegistered(ctx, reg.OrchestratorNames()); err != nil {
		release()
		return nil, fmt.Errorf("embedded: %w", err)
	}
	p, err := newProcessor(ctx, e, reg, opts)
	if err != nil {
		release()
		return nil, err
	}
	e.reg, e.proc = reg, p
	e.eventWaits.Clear()
	go p.run()
	sched := newScheduler(ctx, e, p.work, p.log)
	e.sched = sched
	var once sync.Once
	stop := func(ctx context.Context) error {
		var err error
		once.Do(func() {
			if sched != nil {
				sched.stop()
			}
			err = p.stop(ctx)
			release()
			e.mu.Lock()
			if e.proc == p {
				e.proc, e.reg, e.stopWorker, e.sched = nil, nil, nil, nil
			}
			e.mu.Unlock()
		})
		return err
	}
	e.stopWorker = stop
	return stop, nil
}

// wake tells the running worker (if any) that new inbox messages exist.
func (e *Engine) wake() {
	e.mu.Lock()
	p := e.proc
	e.mu.Unlock()
	if p != nil {
		p.poke()
	}
}

// watch returns a channel closed when the instance reaches a terminal
// state in this process, and a function to stop watching.
func (e *Engine) watch(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	e.mu.Lock()
	e.watchers[id] = append(e.watchers[id], ch)
	e.mu.Unlock()
	return ch, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		ws := e.watchers[id]
		for i, w := range ws {
			if w == ch {
				e.watchers[id] = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(e.watchers[id]) == 0 {
			delete(e.watchers, id)
		}
	}
}

func (e *Engine) notifyDone(ids []string) {
	e.endUpdates(ids)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sched != nil {
		e.sched.ended(ids)
	}
	for _, id := range ids {
		for _, ch := range e.watchers[id] {
			close(ch)
		}
		delete(e.watchers, id)
	}
}
