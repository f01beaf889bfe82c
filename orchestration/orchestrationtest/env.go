package orchestrationtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/engine"
	"github.com/cloudbutton/cloudbutton/internal/option"
	"github.com/cloudbutton/cloudbutton/internal/store/memstore"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Env is the embedded engine for unit tests: its own step processing, over
// an in-memory store, with activities (real or mocked) run in the test's
// process one attempt at a time, and a virtual clock that jumps to the next
// timer whenever the engine waits only for time. An Env runs one
// orchestration; it is not safe for concurrent use.
type Env struct {
	t     testing.TB
	opts  options
	orchs map[string]orchestration.Definition
	acts  map[string]activity.Definition
	mocks map[string]activity.Definition
	clock *virtualClock
	st    *memstore.Store
	eng   *engine.Engine
	w     *worker.Worker
	root  string
	// pendingEvents were raised before the root instance existed.
	pendingEvents []pendingEvent
	logger        *slog.Logger
	// handlers are the answers of updates (UpdateAfter) still to hand
	// over; Run waits for them.
	handlers sync.WaitGroup
	// answering counts the update answers handed over whose callback has
	// not returned: the clock waits for them.
	answering atomic.Int64
}

type pendingEvent struct {
	name    string
	payload []byte
}

type options struct {
	start      time.Time
	instanceID string
	codec      codec.Codec
	limits     codec.Limits
	deadlock   time.Duration
	maxSteps   int
	noReplay   bool
}

// Option configures an Env. Options apply in order, a later one
// overriding an earlier one; a constructor given a bad value returns an
// option that makes New fail the test, naming it, e.g.
// `orchestrationtest.New: WithMaxPayload(0): want at least 1 byte`.
type Option func(*options) error

func invalid(format string, args ...any) Option {
	err := fmt.Errorf(format, args...)
	return func(*options) error { return err }
}

// WithStartTime sets the virtual clock's start (default 2026-01-01 UTC).
// A zero time is an error.
func WithStartTime(t time.Time) Option {
	if t.IsZero() {
		return invalid("WithStartTime(%s): zero time", t.Format(time.RFC3339))
	}
	return func(o *options) error { o.start = t; return nil }
}

// WithInstanceID sets the root instance id (default "test-instance"). An
// empty id is an error.
func WithInstanceID(id string) Option {
	if id == "" {
		return invalid(`WithInstanceID(""): empty`)
	}
	return func(o *options) error { o.instanceID = id; return nil }
}

// WithCodec sets the payload codec (default codec.JSON). A nil codec is
// an error.
func WithCodec(c codec.Codec) Option {
	if c == nil {
		return invalid("WithCodec(nil)")
	}
	return func(o *options) error { o.codec = c; return nil }
}

// WithMaxPayload sets the payload size limit in bytes (default
// codec.DefaultMaxPayload). Zero or less is an error.
func WithMaxPayload(n int) Option {
	if n <= 0 {
		return invalid("WithMaxPayload(%d): want at least 1 byte", n)
	}
	return func(o *options) error { o.limits.MaxPayload = n; return nil }
}

// WithDeadlockTimeout sets how long orchestrator code may block outside
// the engine before the run fails with a DeadlockError (default 1s). Zero
// or less is an error.
func WithDeadlockTimeout(d time.Duration) Option {
	if d <= 0 {
		return invalid("WithDeadlockTimeout(%s): want a positive duration", d)
	}
	return func(o *options) error { o.deadlock = d; return nil }
}

// WithoutReplayCheck skips the replay-from-scratch check after each run.
func WithoutReplayCheck() Option { return func(o *options) error { o.noReplay = true; return nil } }

// New returns an empty environment bound to t: divergences fail t, logs
// go to t.Log, and everything is released in t.Cleanup. Outside a test
// (Example functions, programs) pass nil: divergences panic, logs are
// discarded, and Close releases the environment. An invalid option fails
// t at once (t.Fatalf), or panics when t is nil.
func New(t testing.TB, opts ...Option) *Env {
	o := options{
		start:      time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		instanceID: "test-instance",
		codec:      codec.JSON,
		deadlock:   time.Second,
		maxSteps:   1_000_000,
	}
	if err := option.Apply(&o, opts); err != nil {
		if t == nil {
			panic(fmt.Sprintf("orchestrationtest.New: %v", err))
		}
		t.Helper()
		t.Fatalf("orchestrationtest.New: %v", err)
	}
	e := &Env{
		t: t, opts: o, clock: newVirtualClock(o.start),
		orchs:  map[string]orchestration.Definition{},
		acts:   map[string]activity.Definition{},
		mocks:  map[string]activity.Definition{},
		logger: slog.New(slog.DiscardHandler),
	}
	if t != nil {
		e.logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		t.Cleanup(e.Close)
	}
	return e
}

// errorf fails the test, or panics outside one.
func (e *Env) errorf(format string, args ...any) {
	if e.t == nil {
		panic(fmt.Sprintf(format, args...))
	}
	e.t.Helper()
	e.t.Errorf(format, args...)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// RegisterOrchestrators makes orchestrators available, for the run and as
// sub-orchestrations.
func (e *Env) RegisterOrchestrators(defs ...orchestration.Definition) {
	for _, d := range defs {
		e.orchs[d.Name()] = d
	}
}

// RegisterActivities makes real activities available.
func (e *Env) RegisterActivities(defs ...activity.Definition) {
	for _, d := range defs {
		e.acts[d.Name()] = d
	}
}

// Now returns the virtual clock.
func (e *Env) Now() time.Time { return e.clock.Now() }

// Calls records the calls of a mocked activity.
type Calls[In any] struct {
	mu     sync.Mutex
	inputs []In
}

// Count returns the number of calls (attempts included).
func (c *Calls[In]) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.inputs)
}

// Inputs returns the inputs of every call, in call order.
func (c *Calls[In]) Inputs() []In {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]In(nil), c.inputs...)
}

// MockActivity replaces activity a with fn for this environment and
// returns a record of its calls. fn receives the decoded input; its result
// goes through the codec like a real activity's.
func MockActivity[In, Out any](e *Env, a *activity.Activity[In, Out], fn func(ctx context.Context, in In) (Out, error)) *Calls[In] {
	return MockActivityNamed(e, a.Name(), fn)
}

// MockActivityNamed mocks an activity by name, for activities defined
// elsewhere.
func MockActivityNamed[In, Out any](e *Env, name string, fn func(ctx context.Context, in In) (Out, error)) *Calls[In] {
	calls := &Calls[In]{}
	def := activity.New(name, func(ctx context.Context, in In) (Out, error) {
		calls.mu.Lock()
		calls.inputs = append(calls.inputs, in)
		calls.mu.Unlock()
		return fn(ctx, in)
	})
	e.mocks[name] = def
	return calls
}

// After runs fn when the virtual clock reaches d from the start of the
// run, e.g. to raise an event or terminate.
func (e *Env) After(d time.Duration, fn func()) {
	e.clock.AfterFunc(e.opts.start.Add(d).Sub(e.clock.Now()), fn)
}

// RaiseEvent delivers an external event to the root instance now (before
// Run: buffered until the run starts).
func RaiseEvent[T any](e *Env, name string, v T) {
	e.raise(e.opts.instanceID, name, v)
}

// RaiseEventAfter delivers an external event to the root instance at d of
// virtual time from the start.
func RaiseEventAfter[T any](e *Env, d time.Duration, name string, v T) {
	e.After(d, func() { e.raise(e.opts.instanceID, name, v) })
}

func (e *Env) raise(id, name string, v any) {
	data, err := codec.Encode(e.opts.codec, e.opts.limits, fmt.Sprintf("payload of event %q", name), v)
	if err != nil {
		e.errorf("orchestrationtest: %v", err)
		return
	}
	if e.eng == nil {
		e.pendingEvents = append(e.pendingEvents, pendingEvent{name: name, payload: data})
		return
	}
	if err := e.eng.RaiseEventRaw(context.Background(), id, name, data); err != nil && !errors.Is(err, client.ErrNotRunning) {
		e.errorf("orchestrationtest: raise %q to %q: %v", name, id, err)
	}
}

// TerminateAfter requests termination of the root instance (and its
// sub-orchestrations) at d of virtual time.
func (e *Env) TerminateAfter(d time.Duration, reason string) {
	e.After(d, func() { e.terminate(e.opts.instanceID, reason) })
}
