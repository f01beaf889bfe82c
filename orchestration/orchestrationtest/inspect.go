package orchestrationtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// FailureError is what Run returns for an orchestration that failed or was
// terminated: the error client.Result returns on every engine, with the
// same Unwrap chain (an *activity.Error of the failure's type;
// orchestration.ErrCanceled when terminated; ErrTimeout, ErrPanic or
// ErrNotRegistered where they apply).
type FailureError = client.InstanceError

// EventType names a history event.
type EventType string

// The history event types, for assertions on Event.Type.
const (
	OrchestrationStarted        = EventType(replay.OrchestrationStarted)
	ActivityScheduled           = EventType(replay.ActivityScheduled)
	ActivityCompleted           = EventType(replay.ActivityCompleted)
	ActivityFailed              = EventType(replay.ActivityFailed)
	TimerCreated                = EventType(replay.TimerCreated)
	TimerFired                  = EventType(replay.TimerFired)
	EventRaised                 = EventType(replay.EventRaised)
	SubOrchestrationScheduled   = EventType(replay.SubOrchestrationScheduled)
	SubOrchestrationCompleted   = EventType(replay.SubOrchestrationCompleted)
	SubOrchestrationFailed      = EventType(replay.SubOrchestrationFailed)
	SideEffectRecorded          = EventType(replay.SideEffectRecorded)
	VersionMarked               = EventType(replay.VersionMarked)
	TerminationRequested        = EventType(replay.TerminationRequested)
	OrchestrationCompleted      = EventType(replay.OrchestrationCompleted)
	OrchestrationFailed         = EventType(replay.OrchestrationFailed)
	OrchestrationContinuedAsNew = EventType(replay.OrchestrationContinuedAsNew)
	OrchestrationTerminated     = EventType(replay.OrchestrationTerminated)
	UpdateAccepted              = EventType(replay.UpdateAccepted)
	UpdateCompleted             = EventType(replay.UpdateCompleted)
	OrchestrationRewound        = EventType(replay.OrchestrationRewound)
)

// Event is one history event, for assertions.
type Event struct {
	Index   int64
	Type    EventType
	Name    string
	TaskID  int64
	Time    time.Time
	Payload json.RawMessage
	// Failure is "Type: message" for failure events.
	Failure string
	Attempt int
}

// History returns the root instance's history (its latest run).
func (e *Env) History() []Event {
	if e.root == "" {
		return nil
	}
	return e.InstanceHistory(e.root)
}

// InstanceHistory returns the history of any instance of the run, such as
// a sub-orchestration ("<parent>:<step>" unless its id was set); the test
// fails for an id no instance of the run has.
func (e *Env) InstanceHistory(id string) []Event {
	if e.st == nil {
		e.errorf("orchestrationtest: InstanceHistory(%q): nothing ran", id)
		return nil
	}
	ctx := context.Background()
	if _, err := e.st.Instance(ctx, id); err != nil {
		e.errorf("orchestrationtest: InstanceHistory(%q): no such instance in the run", id)
		return nil
	}
	hist, err := e.st.History(ctx, id)
	if err != nil {
		e.errorf("orchestrationtest: %v", err)
		return nil
	}
	out := make([]Event, len(hist))
	for i, ev := range hist {
		out[i] = Event{Index: ev.Index, Type: EventType(ev.Type), Name: ev.Name, TaskID: ev.TaskID, Time: ev.Time,
			Payload: json.RawMessage(ev.Payload), Attempt: ev.Attempt}
		if ev.Failure != nil {
			out[i].Failure = ev.Failure.Type + ": " + ev.Failure.Message
		}
	}
	return out
}

// ActivityAttempts returns the attempts of the root instance's activity
// calls (its latest run), in schedule order, with their virtual times:
// what client.Client.ActivityAttempts returns on the embedded engine.
func (e *Env) ActivityAttempts() []client.ActivityAttempt {
	if e.root == "" {
		return nil
	}
	return e.InstanceActivityAttempts(e.root)
}

// InstanceActivityAttempts is ActivityAttempts of any instance of the run
// (see InstanceHistory); the test fails for an id no instance of the run
// has.
func (e *Env) InstanceActivityAttempts(id string) []client.ActivityAttempt {
	if e.eng == nil {
		e.errorf("orchestrationtest: InstanceActivityAttempts(%q): nothing ran", id)
		return nil
	}
	as, err := e.eng.ActivityAttempts(context.Background(), id)
	if errors.Is(err, client.ErrNotFound) {
		e.errorf("orchestrationtest: InstanceActivityAttempts(%q): no such instance in the run", id)
		return nil
	}
	if err != nil {
		e.errorf("orchestrationtest: %v", err)
		return nil
	}
	return as
}

// ScheduledActivities returns the names of the activities a history
// scheduled, in order (retries are not new entries).
func ScheduledActivities(history []Event) []string {
	var names []string
	for _, e := range history {
		if e.Type == ActivityScheduled {
			names = append(names, e.Name)
		}
	}
	return names
}

// MaxInFlight returns the most activities a history had scheduled and not
// yet finished at any point: the concurrency a bounded fan-out reached.
func MaxInFlight(history []Event) int {
	n, most := 0, 0
	for _, e := range history {
		switch e.Type {
		case ActivityScheduled:
			n++
			most = max(most, n)
		case ActivityCompleted, ActivityFailed:
			n--
		}
	}
	return most
}

// Generation returns how many times the root continued as new.
func (e *Env) Generation() int {
	if in := e.rootRecord(); in != nil {
		return in.Generation
	}
	return 0
}

func (e *Env) rootRecord() *store.Instance {
	if e.st == nil || e.root == "" {
		return nil
	}
	in, err := e.st.Instance(context.Background(), e.root)
	if err != nil {
		return nil
	}
	return in
}

// ExportHistory writes the root instance's history in the format the
// engines export and ReplayHistory reads: use it to record golden files.
func (e *Env) ExportHistory(w io.Writer) error {
	if e.eng == nil || e.root == "" {
		return fmt.Errorf("orchestrationtest: nothing ran")
	}
	return e.eng.ExportHistory(context.Background(), e.root, w)
}

// CustomStatus decodes the root instance's latest custom status.
func CustomStatus[T any](e *Env) (T, error) {
	var zero T
	in := e.rootRecord()
	if in == nil || len(in.CustomStatus) == 0 {
		return zero, fmt.Errorf("orchestrationtest: no custom status was set")
	}
	return codec.Decode[T](e.opts.codec, "custom status", in.CustomStatus)
}

// ReplayHistory replays an exported history against the current code of
// the orchestrators in defs (the one named in the history is used). It
// returns a *orchestration.NondeterminismError that names the step, what
// history recorded and what the code did, when they diverge.
func ReplayHistory(r io.Reader, defs ...orchestration.Definition) error {
	h, err := replay.ReadHistory(r)
	if err != nil {
		return err
	}
	err = replay.CheckHistory(h, defs...)
	if errors.Is(err, replay.ErrNoDefinition) {
		return fmt.Errorf("orchestrationtest: %w", err)
	}
	return err
}

// ReplayHistoryFile is ReplayHistory on a file.
func ReplayHistoryFile(path string, defs ...orchestration.Definition) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("orchestrationtest: %w", err)
	}
	if err := ReplayHistory(bytes.NewReader(data), defs...); err != nil {
		return fmt.Errorf("replaying %s: %w", path, err)
	}
	return nil
}
