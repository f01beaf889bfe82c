package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/store"
	"github.com/cloudbutton/cloudbutton/internal/store/sqlite"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Durability says what a committed step survives.
type Durability = sqlite.Durability

const (
	// ProcessCrash (the default): committed steps survive kill -9.
	ProcessCrash = sqlite.ProcessCrash
	// PowerLoss: committed steps also survive power loss (fsync on every
	// commit).
	PowerLoss = sqlite.PowerLoss
)

// ErrWorkerRunning is returned by Worker.Start when another process runs a
// worker on the same database file.
var ErrWorkerRunning = sqlite.ErrWorkerRunning

// Options configures an embedded engine. The zero value is usable.
type Options struct {
	// Durability of commits (default ProcessCrash).
	Durability Durability
	// Codec encodes payloads (default codec.JSON).
	Codec codec.Codec
	// MaxPayload bounds every payload in bytes (default
	// codec.DefaultMaxPayload).
	MaxPayload int
	// PollInterval is how often the worker looks for work written by
	// other processes (clients started elsewhere; default 100ms). Work
	// from this process is picked up at once.
	PollInterval time.Duration
	// DeadlockTimeout bounds how long orchestrator code may run without
	// yielding (default 2s).
	DeadlockTimeout time.Duration
	// Logger receives the engine's logs (default slog.Default()).
	Logger *slog.Logger
	// SkipIntegrityCheck skips the quick integrity check at open.
	SkipIntegrityCheck bool
	// CheckNames makes the client refuse (client.ErrUnknownName) a start
	// of an orchestrator that the worker (of this process, or the last
	// one that ran on the file) does not register. By default any name is
	// accepted, as on Temporal: the instance waits, Blocked, for a worker
	// that hosts it.
	CheckNames bool
}

// Engine is the embedded engine: a SQLite file, a worker that runs
// orchestrations and activities in this process, and a client usable from
// this or any other process on the same file. It is safe for concurrent
// use.
type Engine struct {
	opts  Options
	store store.Store
	path  string
	log   *slog.Logger

	mu       sync.Mutex
	reg      *worker.Registry // the running worker's, for name checks
	proc     *processor
	watchers map[string][]chan struct{}
	closed   bool
}

var (
	_ worker.Engine = (*Engine)(nil)
	_ client.Client = (*Engine)(nil)
)

// Open opens (or creates) the engine's database at path. It fails with a
// clear error on a file that is not a database, is corrupt, or has a newer
// schema.
func Open(ctx context.Context, path string, opts Options) (*Engine, error) {
	if opts.Codec == nil {
		opts.Codec = codec.JSON
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	st, err := sqlite.Open(ctx, path, sqlite.Options{Durability: opts.Durability, SkipIntegrityCheck: opts.SkipIntegrityCheck})
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	return &Engine{opts: opts, store: st, path: st.Path(), log: opts.Logger, watchers: map[string][]chan struct{}{}}, nil
}

// Path returns the database file's absolute path.
func (e *Engine) Path() string { return e.path }

// Codec implements client.Client.
func (e *Engine) Codec() codec.Codec { return e.opts.Codec }

func (e *Engine) limits() codec.Limits { return codec.Limits{MaxPayload: e.opts.MaxPayload} }

// Close stops the worker if it runs and closes the database.
func (e *Engine) Close() error {
	e.mu.Lock()
	proc := e.proc
	e.closed = true
	e.mu.Unlock()
	if proc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = proc.stop(ctx)
	}
	return e.store.Close()
}

// StartWorker implements worker.Engine: one worker per database file,
// enforced with a lock file (a second one gets ErrWorkerRunning).
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
	go p.run()
	return func(ctx context.Context) error {
		err := p.stop(ctx)
		release()
		e.mu.Lock()
		if e.proc == p {
			e.proc, e.reg = nil, nil
		}
		e.mu.Unlock()
		return err
	}, nil
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
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range ids {
		for _, ch := range e.watchers[id] {
			close(ch)
		}
		delete(e.watchers, id)
	}
}
