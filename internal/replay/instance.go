package replay

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"time"

	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
)

// Options configures instances. The zero value is usable.
type Options struct {
	// Codec encodes payloads (default codec.JSON).
	Codec codec.Codec
	// Limits bounds payload sizes.
	Limits codec.Limits
	// DeadlockTimeout is how long a coroutine may run without yielding
	// before the orchestration fails with a DeadlockError (default 2s).
	DeadlockTimeout time.Duration
	// Logger is the base of the orchestrator's replay-aware logger.
	Logger *slog.Logger
}

// StepResult is what applying events produced.
type StepResult struct {
	// Events to append to history, in order: the incoming events that were
	// applied (duplicates and stale completions are dropped) and the
	// events the code produced in response.
	Events []Event
	// Done is set once the run ended; the last event is terminal.
	Done bool
	// CustomStatus is the latest custom status; CustomStatusChanged says
	// whether this step set it.
	CustomStatus        []byte
	CustomStatusChanged bool
	// Unapplied are incoming events that came after the run ended; an
	// engine carries them over to the next run after continue-as-new.
	Unapplied []Event
	// Rejected are the UpdateAccepted events of the step that were
	// refused (no handler, or the validator said no): not in Events.
	Rejected []Rejection
}

// Instance is a live orchestration run: its coroutines, pending futures
// and buffered events. Apply feeds it new events; Replay rebuilds it from
// history. An Instance is not safe for concurrent use; Close it when done.
type Instance struct {
	def  core.OrchestratorDef
	opts Options
	info core.Info
	// started and trace are the run's start time and tracing record
	// (OrchestrationStarted), for tracing.
	started time.Time
	trace   *TraceContext
	sched   *scheduler
	log     *slog.Logger

	now       time.Time
	seq       int64
	nextIndex int64
	replaying bool
	canceled  bool
	// cancelReason is the reason given with the termination request.
	cancelReason string
	arrivals     int64

	recorded         []*Event // outgoing events of the history being replayed, by task id
	recordedVersions map[string]int
	versions         map[string]int

	pending []*promise // by task id; nil once resolved
	events  map[string]*eventQueue
	uuids   int

	customStatus  []byte
	statusChanged bool

	handlers // queries and updates

	out      []Event
	done     bool
	terminal *Event
	abortErr error
}

// New returns an instance of def that has seen no events yet.
func New(def core.OrchestratorDef, opts Options) *Instance {
	if opts.Codec == nil {
		opts.Codec = codec.JSON
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	x := &Instance{
		def:      def,
		opts:     opts,
		sched:    newScheduler(opts.DeadlockTimeout),
		versions: map[string]int{},
		events:   map[string]*eventQueue{},
	}
	x.info.Name = def.Name()
	x.sched.onPanic = func(v any, stack []byte) {
		x.finish(&Event{Type: OrchestrationFailed, Failure: core.PanicFailure(v, stack)})
	}
	x.sched.stopped = func() bool { return x.done }
	x.log = slog.New(&replayHandler{inner: opts.Logger.Handler(), x: x})
	return x
}

// Info returns the instance's identity (known after OrchestrationStarted).
func (x *Instance) Info() core.Info { return x.info }

// StartedAt returns the time of the run's OrchestrationStarted.
func (x *Instance) StartedAt() time.Time { return x.started }

// Trace returns the tracing record of the run's OrchestrationStarted
// (Event.Trace), nil if none.
func (x *Instance) Trace() *TraceContext { return x.trace }

// Started reports whether the run has seen its OrchestrationStarted.
func (x *Instance) Started() bool { return x.info.InstanceID != "" }

// Finished reports whether the run ended and Apply has handed out its
// last events (after a failed Replay, the failure is still to be taken).
func (x *Instance) Finished() bool { return x.done && len(x.out) == 0 }

// Done reports whether the run ended.
func (x *Instance) Done() bool { return x.done }

// Replay rebuilds the instance from a run's history, re-running the
// orchestrator code against it. It returns a *core.NondeterminismError if
// the code diverges from history (the instance is then done, failed, and
// the failure event is returned by the next Apply), or a
// *core.DeadlockError.
func (x *Instance) Replay(history []Event) error {
	x.recordedVersions = map[string]int{}
	for i := range history {
		e := &history[i]
		switch {
		case e.Type == VersionMarked:
			x.recordedVersions[e.Name] = e.Version
		case !e.Type.Incoming() && e.TaskID > 0 && e.TaskID <= int64(len(history)):
			// Each step records one event, so a task id past the
			// history's length is no step the code can reach (and is
			// not worth a table that large): checkRecorded reports it.
			for int64(len(x.recorded)) <= e.TaskID {
				x.recorded = append(x.recorded, nil)
			}
			x.recorded[e.TaskID] = e
		}
	}
	x.replaying = true
	defer func() { x.replaying, x.recorded = false, nil }()
	for i := range history {
		if x.abortErr != nil {
			break
		}
		e := &history[i]
		x.nextIndex = e.Index + 1
		switch {
		case e.Type.Incoming() && x.done:
			x.nondeterministic(x.seq, string(e.Type)+" after step "+fmt.Sprint(x.seq), "complete the orchestration ("+string(x.terminal.Type)+") before it", "")
		case e.Type.Incoming():
			x.deliver(e)
		default:
			x.checkRecorded(e)
		}
	}
	if x.abortErr == nil && x.done && (len(history) == 0 || !history[len(history)-1].Type.Terminal()) && x.terminal != nil {
		x.nondeterministic(x.seq, "no completion", "complete the orchestration ("+string(x.terminal.Type)+")", "")
	}
	if len(history) > 0 {
		// Events produced by an abort go after the whole history.
		x.nextIndex = history[len(history)-1].Index + 1
		for i := range x.out {
			x.out[i].Index = x.nextIndex
			x.nextIndex++
		}
	}
	return x.abortErr
}

// checkRecorded verifies, while replaying, that the code already did what
// an outgoing history event says it did.
func (x *Instance) checkRecorded(e *Event) {
	switch {
	case e.Type == VersionMarked:
	case e.Type.Terminal():
		if x.terminal == nil {
			x.nondeterministic(x.seq, string(e.Type), "not complete the orchestration", "")
		} else if x.terminal.Type != e.Type {
			x.nondeterministic(x.seq, string(e.Type), string(x.terminal.Type), "")
		}
	case e.TaskID > x.seq:
		x.nondeterministic(e.TaskID, describe(e), "", fmt.Sprintf("the code stopped after step %d", x.seq))
	}
}

// Apply delivers new incoming events, runs the orchestrator until it waits
// again, and returns the events to append to history.
func (x *Instance) Apply(events []Event) StepResult {
	var unapplied []Event
	for i := range events {
		if x.done {
			unapplied = events[i:]
			break
		}
		e := events[i]
		if !e.Type.Incoming() {
			continue
		}
		x.deliver(&e)
	}
	res := StepResult{Events: x.out, Done: x.done, CustomStatus: x.customStatus, CustomStatusChanged: x.statusChanged, Unapplied: unapplied, Rejected: x.rejected}
	x.out, x.statusChanged, x.rejected = nil, false, nil
	return res
}

// Close unwinds the instance's coroutines. The instance is unusable after.
func (x *Instance) Close() { x.sched.close() }

// deliver applies one incoming event and runs the code until it waits.
func (x *Instance) deliver(e *Event) {
	switch e.Type {
	case OrchestrationStarted:
		if x.info.InstanceID != "" {
			return // duplicate start
		}
		x.info = core.Info{InstanceID: e.InstanceID, Name: e.Name, ParentInstanceID: e.ParentID, Generation: e.Generation, RunID: e.RunID}
		if e.Name != "" && e.Name != x.def.Name() {
			x.record(e)
			x.finish(&Event{Type: OrchestrationFailed, Failure: &core.Failure{Type: core.FailureOrchestratorNotFound,
				Message: fmt.Sprintf("history is of orchestrator %q, not %q", e.Name, x.def.Name()), NonRetryable: true}})
			return
		}
		x.now, x.started, x.trace = e.Time, e.Time, e.Trace
		x.record(e)
		input := []byte(e.Payload)
		main := x.sched.spawn(nil)
		ctx := &coreCtx{x: x, co: main, cancelable: true}
		main.fn = func() {
			out, err := x.def.Execute(ctx, input)
			if !x.sched.broken.Load() {
				x.complete(out, err)
			}
		}
		// Events carried over from the previous run (continue-as-new) are
		// part of this start event: they come first, in their order,
		// before anything that arrived during the switch.
		for i := range e.Carried {
			x.accept(&e.Carried[i])
		}
	case ActivityCompleted, ActivityFailed, TimerFired, SubOrchestrationCompleted, SubOrchestrationFailed:
		var p *promise
		if e.TaskID > 0 && e.TaskID < int64(len(x.pending)) {
			p = x.pending[e.TaskID]
		}
		if p == nil || !p.accepts(e.Type) {
			return // duplicate or stale: recorded exactly once
		}
		x.pending[e.TaskID] = nil
		x.now = e.Time
		x.record(e)
		if e.Type == ActivityCompleted || e.Type == SubOrchestrationCompleted {
			p.resolve(e.Payload, nil)
		} else if e.Type == TimerFired {
			p.resolve(nil, nil)
		} else {
			f := e.Failure
			if f == nil {
				f = &core.Failure{Type: core.FailureError, Message: "failed without a reason"}
			}
			p.resolve(nil, f)
		}
	case OrchestrationRewound:
		x.deliverRewound(e)
		return
	case UpdateAccepted:
		if !x.acceptUpdate(e) {
			return // refused: no trace in history
		}
	case EventRaised, TerminationRequested:
		if e.Type == TerminationRequested && x.canceled {
			return
		}
		x.now = e.Time
		x.record(e)
		x.accept(e)
	default:
		return
	}
	x.run()
}

// accept takes in an external event or a termination request (recorded by
// the caller).
func (x *Instance) accept(e *Event) {
	switch e.Type {
	case EventRaised:
		x.arrivals++
		x.queue(e.Name).push(e.Payload, x.arrivals)
	case TerminationRequested:
		if !x.canceled {
			x.canceled = true
			x.cancelReason = e.Name
		}
	}
}

// run drains the scheduler; a deadlock fails the orchestration.
func (x *Instance) run() {
	if err := x.sched.drain(x.canceled); err != nil {
		var dl *core.DeadlockError
		if errors.As(err, &dl) {
			dl.InstanceID = x.info.InstanceID
		}
		x.abortErr = err
		x.finish(&Event{Type: OrchestrationFailed, Failure: failerr.From(err)})
	}
}

// record appends an event to the step's output (live) or just advances
// the index (replay: it is already in history).
func (x *Instance) record(e *Event) {
	if x.replaying {
		return
	}
	e.Index = x.nextIndex
	x.nextIndex++
	if e.Time.IsZero() {
		e.Time = x.now
	}
	x.out = append(x.out, *e)
}

// action issues the next action of the code, of type typ and name. On
// replay it returns the recorded event after checking it matches (a
// mismatch ends the run with a NondeterminismError and unwinds the
// coroutine); live, it returns nil and the caller records the event with
// issue.
func (x *Instance) action(typ EventType, name string) (seq int64, rec *Event) {
	if x.reading != "" { // (not built on every action: it allocates)
		x.readOnly("schedule work (" + string(typ) + ")")
	}
	x.seq++
	if !x.replaying {
		return x.seq, nil
	}
	if int(x.seq) < len(x.recorded) {
		rec = x.recorded[x.seq]
	}
	if rec == nil || rec.Type != typ || rec.Name != name {
		x.nondeterministic(x.seq, describe(rec), describe(&Event{Type: typ, Name: name}), "")
		runtime.Goexit()
	}
	return x.seq, rec
}

// issue records a live action event.
func (x *Instance) issue(e *Event) *Event {
	e.Time = x.now
	x.record(e)
	return &x.out[len(x.out)-1]
}

// pend registers the promise of action seq.
func (x *Instance) pend(seq int64, p *promise) {
	for int64(len(x.pending)) <= seq {
		x.pending = append(x.pending, nil)
	}
	x.pending[seq] = p
}

// nondeterministic ends the run with a NondeterminismError. Called on a
// coroutine, it unwinds that coroutine.
func (x *Instance) nondeterministic(step int64, recorded, code, detail string) {
	err := &core.NondeterminismError{InstanceID: x.info.InstanceID, Step: step, Recorded: recorded, Code: code, Detail: detail}
	x.abort(err)
}

func (x *Instance) abort(err error) {
	if x.abortErr == nil {
		x.abortErr = err
	}
	x.terminal = nil
	x.done = false
	x.finish(&Event{Type: OrchestrationFailed, Failure: failerr.From(err)})
}

// complete ends the run with the orchestrator's return values.
func (x *Instance) complete(out []byte, err error) {
	if x.done {
		return
	}
	var can *core.ContinueAsNewError
	var size *codec.SizeError
	switch {
	case errors.As(err, &can):
		e := &Event{Type: OrchestrationContinuedAsNew, Payload: can.Input}
		if can.KeepEvents {
			e.Carried = x.unconsumedEvents()
		}
		x.finish(e)
	case errors.As(err, &size):
		x.finish(&Event{Type: OrchestrationFailed, Failure: &core.Failure{Type: core.FailurePayloadTooLarge, Message: err.Error(), NonRetryable: true}})
	case err != nil:
		x.finish(&Event{Type: OrchestrationFailed, Failure: failerr.From(err)})
	default:
		x.finish(&Event{Type: OrchestrationCompleted, Payload: out})
	}
}

// finish records the terminal event. After a termination request, every
// ending is OrchestrationTerminated (keeping the output or failure).
func (x *Instance) finish(e *Event) {
	if x.done {
		return
	}
	if x.canceled && e.Type != OrchestrationContinuedAsNew && x.abortErr == nil {
		e.Type, e.Name = OrchestrationTerminated, x.cancelReason
	}
	x.done = true
	if x.replaying && x.abortErr == nil {
		x.terminal = e // compared with history by checkRecorded
		return
	}
	wasReplaying := x.replaying
	x.replaying = false
	x.record(e)
	x.replaying = wasReplaying
	x.terminal = &x.out[len(x.out)-1]
}

func (x *Instance) queue(name string) *eventQueue {
	q := x.events[name]
	if q == nil {
		q = &eventQueue{name: name}
		x.events[name] = q
	}
	return q
}

// unconsumedEvents lists buffered events, in arrival order per name and
// by name order of first arrival.
func (x *Instance) unconsumedEvents() []Event {
	var bufs []buffered
	for _, q := range x.events {
		bufs = append(bufs, q.buf...)
	}
	slices.SortFunc(bufs, func(a, b buffered) int { return cmp.Compare(a.arrival, b.arrival) })
	out := make([]Event, len(bufs))
	for i, b := range bufs {
		out[i] = Event{Type: EventRaised, Name: b.name, Payload: b.payload, Time: x.now}
	}
	return out
}

// NextRunStart is the OrchestrationStarted event of the run that follows
// continue-as-new event can: the next generation under runID, the new
// input, and,
// carried in it in order, the events the old run kept
// (KeepUnprocessedEvents) followed by the external events and termination
// request that arrived after it ended (unapplied). Nothing raised during
// the switch is lost or reordered.
func NextRunStart(info core.Info, runID string, parentTaskID int64, can *Event, unapplied []Event, now time.Time) Event {
	start := Event{Type: OrchestrationStarted, Name: info.Name, InstanceID: info.InstanceID,
		ParentID: info.ParentInstanceID, ParentTaskID: parentTaskID, Generation: info.Generation + 1,
		RunID: runID, Payload: can.Payload, Time: now}
	start.Carried = append(start.Carried, can.Carried...)
	for _, e := range unapplied {
		if e.Type == EventRaised || e.Type == TerminationRequested {
			start.Carried = append(start.Carried, e)
		}
	}
	return start
}

// NewRunID returns a new run id: 16 random hex digits.
func NewRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}
