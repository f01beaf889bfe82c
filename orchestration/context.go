package orchestration

import (
	"log/slog"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/core"
)

// Context is the orchestrator's handle on its engine. It is sealed: only
// engines of this module implement it. A Context belongs to one coroutine
// (the orchestrator's, or one started with Go) and must not be shared
// between them.
//
// Orchestrator code must be deterministic: take time from Now, randomness
// from NewUUID or SideEffect, and do all I/O in activities.
type Context interface {
	// Info describes the running orchestration.
	Info() Info
	// Now returns the deterministic current time: the time of the latest
	// event the orchestration has seen. It is the same on replay.
	Now() time.Time
	// IsReplaying reports whether the code is re-running recorded steps.
	IsReplaying() bool
	// Logger returns a logger that is silent during replay.
	Logger() *slog.Logger
	// Err returns ErrCanceled once the orchestration was asked to
	// terminate (unless the context came from WithoutCancel), else nil.
	Err() error

	engine() core.Context
	callDefaults() *callDefaults
}

// Info describes a running orchestration.
type Info struct {
	InstanceID       string
	Name             string
	ParentInstanceID string
	// Generation counts continue-as-new restarts, from 0.
	Generation int
	// RunID is unique to the run: each continue-as-new generation, each
	// reuse of the instance id and each rewind has its own (a rewind's
	// replay sees the new one). Activity idempotency keys include it.
	RunID string
}

// ctxImpl is the only Context. calls are the default call options
// (WithCallOptions), shared by the contexts derived from it; nil for none.
type ctxImpl struct {
	c     core.Context
	calls *callDefaults
}

// wrap is the context of an orchestrator: no defaults.
func wrap(c core.Context) Context { return ctxImpl{c: c} }

// derive is the context of c, an engine context derived from ctx's, with
// ctx's defaults.
func derive(ctx Context, c core.Context) Context {
	return ctxImpl{c: c, calls: ctx.callDefaults()}
}

func (x ctxImpl) engine() core.Context        { return x.c }
func (x ctxImpl) callDefaults() *callDefaults { return x.calls }
func (x ctxImpl) Now() time.Time              { return x.c.Now() }
func (x ctxImpl) IsReplaying() bool           { return x.c.IsReplaying() }
func (x ctxImpl) Logger() *slog.Logger        { return x.c.Logger() }
func (x ctxImpl) Info() Info                  { return Info(x.c.Info()) }
func (x ctxImpl) Err() error {
	if x.c.Cancelable() && x.c.Canceled() {
		return ErrCanceled
	}
	return nil
}

// WithoutCancel returns a context whose waits and calls are not ended by a
// terminate request: use it for clean-up and saga compensation after Err
// reports ErrCanceled. It keeps the default call options of ctx.
func WithoutCancel(ctx Context) Context { return derive(ctx, ctx.engine().WithoutCancel()) }
