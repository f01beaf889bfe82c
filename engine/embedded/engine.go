package embedded

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/engine"
	"github.com/cloudbutton/cloudbutton/internal/store/sqlite"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Durability says what a committed step survives.
type Durability int

const (
	// ProcessCrash (the default): committed steps survive kill -9.
	ProcessCrash Durability = iota
	// PowerLoss: committed steps also survive power loss (fsync on every
	// commit).
	PowerLoss
)

// ErrWorkerRunning is returned by Worker.Start when another process runs a
// worker on the same database file.
var ErrWorkerRunning = sqlite.ErrWorkerRunning

// ErrNoWorkerHere is the error of a query or an update sent from a
// process where no worker runs on the file: the worker's process answers
// them, from the live instance. It matches client.ErrNotRunning too.
var ErrNoWorkerHere = engine.ErrNoWorkerHere

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
	e    *engine.Engine
	path string
}

var (
	_ worker.Engine = (*Engine)(nil)
	_ client.Client = (*Engine)(nil)
)

// Open opens (or creates) the engine's database at path. It fails with a
// clear error on a file that is not a database, is corrupt, or has a newer
// schema.
func Open(ctx context.Context, path string, opts Options) (*Engine, error) {
	dur := sqlite.ProcessCrash
	if opts.Durability == PowerLoss {
		dur = sqlite.PowerLoss
	}
	st, err := sqlite.Open(ctx, path, sqlite.Options{Durability: dur, SkipIntegrityCheck: opts.SkipIntegrityCheck})
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	e := engine.New(st, engine.Options{Codec: opts.Codec, MaxPayload: opts.MaxPayload, PollInterval: opts.PollInterval,
		DeadlockTimeout: opts.DeadlockTimeout, Logger: opts.Logger, CheckNames: opts.CheckNames})
	return &Engine{e: e, path: st.Path()}, nil
}

// Path returns the database file's absolute path.
func (e *Engine) Path() string { return e.path }

// Client returns the engine as a client.Client.
func (e *Engine) Client() client.Client { return e }

// Close stops the worker if it runs (releasing the worker lock) and closes
// the database.
func (e *Engine) Close() error { return e.e.Close() }

// StartWorker implements worker.Engine: one worker per database file,
// enforced with a lock file (a second one gets ErrWorkerRunning).
func (e *Engine) StartWorker(ctx context.Context, reg *worker.Registry, opts worker.Options) (func(context.Context) error, error) {
	return e.e.StartWorker(ctx, reg, opts)
}

// Codec implements client.Client.
func (e *Engine) Codec() codec.Codec { return e.e.Codec() }

// StartRaw implements client.Client.
func (e *Engine) StartRaw(ctx context.Context, name string, input []byte, opts client.StartOptions) (string, error) {
	return e.e.StartRaw(ctx, name, input, opts)
}

// Status implements client.Client.
func (e *Engine) Status(ctx context.Context, id string) (*client.Status, error) {
	return e.e.Status(ctx, id)
}

// Wait implements client.Client. In the worker's process it wakes at once;
// from another process it polls.
func (e *Engine) Wait(ctx context.Context, id string) (*client.Status, error) {
	return e.e.Wait(ctx, id)
}

// List implements client.Client.
func (e *Engine) List(ctx context.Context, f client.Filter) ([]*client.Status, error) {
	return e.e.List(ctx, f)
}

// ListPage implements client.Client: newest first, with keyset paging
// (the token is the last instance's creation time and id), so instances
// created or purged between pages neither repeat nor shift a listing.
func (e *Engine) ListPage(ctx context.Context, f client.Filter) (*client.Page, error) {
	return e.e.ListPage(ctx, f)
}

// RaiseEventRaw implements client.Client. An event for an unknown or
// finished instance is an error (ErrNotFound, ErrNotRunning).
func (e *Engine) RaiseEventRaw(ctx context.Context, id, name string, payload []byte) error {
	return e.e.RaiseEventRaw(ctx, id, name, payload)
}

// Terminate implements client.Client: the orchestrator sees ErrCanceled
// in its waits, may clean up, and ends Terminated; its queued attempts
// never start, running ones are cancelled, and sub-orchestrations are
// terminated too.
func (e *Engine) Terminate(ctx context.Context, id, reason string) error {
	return e.e.Terminate(ctx, id, reason)
}

// Suspend implements client.Client.
func (e *Engine) Suspend(ctx context.Context, id, reason string) error {
	return e.e.Suspend(ctx, id, reason)
}

// Resume implements client.Client.
func (e *Engine) Resume(ctx context.Context, id, reason string) error {
	return e.e.Resume(ctx, id, reason)
}

// Purge implements client.Client.
func (e *Engine) Purge(ctx context.Context, id string) error { return e.e.Purge(ctx, id) }

// ExportHistory implements client.Client.
func (e *Engine) ExportHistory(ctx context.Context, id string, w io.Writer) error {
	return e.e.ExportHistory(ctx, id, w)
}

// ActivityAttempts implements client.Client: every attempt, with its
// times, those cut short by a crash included. See "Activity attempts" in
// the package documentation for what a client of another process than
// the worker's cannot see.
func (e *Engine) ActivityAttempts(ctx context.Context, id string) ([]client.ActivityAttempt, error) {
	return e.e.ActivityAttempts(ctx, id)
}

// QueryRaw implements client.Client: the worker answers from the live
// instance, so a client needs the worker's process (else an error
// matching client.ErrNotRunning says so).
func (e *Engine) QueryRaw(ctx context.Context, id, name string, arg []byte) ([]byte, error) {
	return e.e.QueryRaw(ctx, id, name, arg)
}

// UpdateRaw implements client.Client: like QueryRaw, it needs the
// worker's process.
func (e *Engine) UpdateRaw(ctx context.Context, id, name string, arg []byte) ([]byte, error) {
	return e.e.UpdateRaw(ctx, id, name, arg)
}
