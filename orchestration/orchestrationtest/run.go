package orchestrationtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/engine"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
	"github.com/cloudbutton/cloudbutton/internal/store/memstore"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// ErrStuck is returned by Run when the orchestration waits for something
// that can never happen: no activity, timer or scheduled callback is left.
var ErrStuck = errors.New("orchestrationtest: orchestration is stuck")

// horizon is how far ahead the harness looks for a timer: the engine's
// poll for other processes is set beyond it (the harness has none), so a
// timer past it means that nothing is left to happen.
const horizon = 100 * 365 * 24 * time.Hour

// Run starts orchestrator o with input in as the root instance, runs it
// to completion on virtual time and returns its result. A failed or
// terminated orchestration returns a *FailureError. It runs the embedded
// engine's own step processing (over an in-memory store and the virtual
// clock), so errors, timeouts, retries and ids are production's. After the
// run, every run of every instance is replayed from scratch, and the test
// fails if a replay diverges (nondeterministic orchestrator code).
func Run[In, Out any](e *Env, o *orchestration.Orchestrator[In, Out], in In) (Out, error) {
	var zero Out
	e.RegisterOrchestrators(o)
	data, err := codec.Encode(e.opts.codec, e.opts.limits, fmt.Sprintf("input of orchestration %q", o.Name()), in)
	if err != nil {
		return zero, err
	}
	st, err := e.runRaw(o.Name(), data)
	if err != nil {
		return zero, err
	}
	if st.RuntimeStatus == client.StatusCompleted {
		return codec.Decode[Out](e.opts.codec, fmt.Sprintf("output of orchestration %q", o.Name()), st.Output)
	}
	return zero, failureError(st)
}

// start builds the engine and its worker: the registered orchestrators,
// the real activities and the mocks, run in this process one attempt at a
// time (so mocks are called in scheduling order).
func (e *Env) start() error {
	e.st = memstore.New(e.clock.Now)
	e.eng = engine.New(e.st, engine.Options{Codec: e.opts.codec, MaxPayload: e.opts.limits.MaxPayload,
		PollInterval: horizon, DeadlockTimeout: e.opts.deadlock, Logger: e.logger, Clock: e.clock,
		RunIDs: numberedRunIDs()})
	defs := make([]activity.Definition, 0, len(e.acts)+len(e.mocks))
	for name, a := range e.acts {
		if _, mocked := e.mocks[name]; !mocked {
			defs = append(defs, a)
		}
	}
	for _, m := range e.mocks {
		defs = append(defs, m)
	}
	inv := newInvoker(e.opts.codec, e.opts.limits, defs)
	e.w = worker.New(e.eng, worker.Options{Invoker: inv, MaxConcurrentActivities: 1, Logger: e.logger})
	for _, o := range e.orchs {
		e.w.RegisterOrchestrators(o)
	}
	e.w.RegisterActivities(defs...)
	return e.w.Start(context.Background())
}

func (e *Env) runRaw(name string, input []byte) (*client.Status, error) {
	if e.eng != nil {
		return nil, errors.New("orchestrationtest: an Env runs one orchestration; create another Env")
	}
	if _, ok := e.orchs[name]; !ok {
		return nil, fmt.Errorf("orchestrationtest: no orchestrator registered as %q", name)
	}
	if err := e.start(); err != nil {
		return nil, err
	}
	ctx := context.Background()
	id, err := e.eng.StartRaw(ctx, name, input, client.StartOptions{InstanceID: e.opts.instanceID})
	if err != nil {
		return nil, err
	}
	e.root = id
	for _, ev := range e.pendingEvents {
		if err := e.eng.RaiseEventRaw(ctx, id, ev.name, ev.payload); err != nil {
			return nil, err
		}
	}
	e.pendingEvents = nil
	st, err := e.drive(ctx)
	if err != nil {
		return nil, err
	}
	e.handlers.Wait() // the ended instance answered every update
	e.replayCheck()
	return st, nil
}

// drive runs the engine until the root instance ends, moving the virtual
// clock to the next timer whenever the engine waits only for time: when
// it has no work outstanding, or when every activity attempt in flight
// waits on its context (for its deadline or cancellation).
func (e *Env) drive(ctx context.Context) (*client.Status, error) {
	for advances := 0; ; {
		quiet := onlyTimeIsLeft(e.eng, e.clock) && e.answering.Load() == 0
		// Read after: a quiet engine has committed all it did.
		st, err := e.eng.Status(ctx, e.root)
		if err != nil {
			return nil, err
		}
		if st.RuntimeStatus.Terminal() {
			return st, nil
		}
		if !quiet {
			select {
			case <-e.eng.Changed():
			case <-time.After(time.Millisecond):
			}
			continue
		}
		next, ok := e.clock.next()
		if !ok || next.Sub(e.clock.Now()) >= horizon/2 {
			return nil, fmt.Errorf("%w: %q waits, but no activity, timer or scheduled callback is left (%s)", ErrStuck, e.root, e.whyStuck(ctx))
		}
		if advances++; advances > e.opts.maxSteps {
			return nil, fmt.Errorf("%w: the virtual clock moved on more than %d times", ErrStuck, e.opts.maxSteps)
		}
		e.clock.advance()
	}
}

// whyStuck describes the instances that wait for a worker that hosts them,
// or else says what the root waits on (client.Explain).
func (e *Env) whyStuck(ctx context.Context) string {
	ins, err := e.st.List(ctx, store.Filter{Statuses: []string{store.StatusPending, store.StatusRunning}})
	if err != nil {
		return err.Error()
	}
	var why []string
	for _, in := range ins {
		if in.Blocked != "" {
			why = append(why, fmt.Sprintf("%q waits: %s", in.ID, in.Blocked))
		}
	}
	if len(why) == 0 {
		x, err := client.Explain(ctx, e.eng, e.root)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("%q: %s", e.root, x.Summary)
	}
	return strings.Join(why, "; ")
}

// onlyTimeIsLeft reports whether eng waits for nothing but the clock.
func onlyTimeIsLeft(eng *engine.Engine, clock *virtualClock) bool {
	n, progress := eng.Outstanding()
	if n == 0 {
		return true
	}
	inFlight, waiting := clock.waitingAttempts()
	if inFlight == 0 || waiting < inFlight || n != int64(inFlight) {
		return false
	}
	// Every attempt in flight has waited on its context and nothing else
	// is pending: give them a moment, then let time pass.
	time.Sleep(time.Millisecond)
	n2, progress2 := eng.Outstanding()
	return n2 == n && progress2 == progress
}

// replayCheck replays every run of every instance from scratch and fails
// the test where the code does not reproduce its history.
func (e *Env) replayCheck() {
	if e.opts.noReplay {
		return
	}
	ctx := context.Background()
	ins, err := e.st.List(ctx, store.Filter{})
	if err != nil {
		e.errorf("orchestrationtest: %v", err)
		return
	}
	for _, in := range ins {
		def, ok := e.orchs[in.Name]
		if !ok {
			continue
		}
		hist, err := e.st.History(ctx, in.ID)
		if err != nil {
			e.errorf("orchestrationtest: %v", err)
			return
		}
		for _, run := range append(e.st.EarlierRuns(in.ID), hist) {
			x := replay.New(core.DefinitionOf(def), e.replayOptions())
			err := x.Replay(run)
			x.Close()
			if err != nil {
				e.errorf("orchestrationtest: replaying the history of %q from scratch diverged from the live run: %v", in.ID, err)
			}
		}
	}
}

func (e *Env) replayOptions() replay.Options {
	return replay.Options{Codec: e.opts.codec, Limits: e.opts.limits, DeadlockTimeout: e.opts.deadlock, Logger: e.logger}
}

// terminate requests termination of an instance (and its children).
func (e *Env) terminate(id, reason string) {
	if e.eng == nil {
		return
	}
	if err := e.eng.Terminate(context.Background(), id, reason); err != nil && !errors.Is(err, client.ErrNotRunning) {
		e.errorf("orchestrationtest: terminate %q: %v", id, err)
	}
}

// Close stops the environment's worker and releases its engine. New(t)
// calls it in t.Cleanup; call it when New got nil.
func (e *Env) Close() {
	if e.eng == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.w.Stop(ctx)
	_ = e.eng.Close()
}

// failureError is Run's error for an instance that failed or was
// terminated: the client's.
func failureError(st *client.Status) error { return &client.InstanceError{Status: st} }

// numberedRunIDs numbers the runs of an Env in the order they start
// (0000000000000001, ...): its histories are the same on every run of a
// test, as its virtual clock's times are.
func numberedRunIDs() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("%016x", n.Add(1)) }
}
