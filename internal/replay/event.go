// Package replay is the event-sourced replay engine: history events, the
// cooperative scheduler that runs orchestrator coroutines one at a time,
// the executor that applies new events to a live instance (or rebuilds one
// from history), and the determinism checks.
package replay

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/rawjson"
)

// EventType names a history event: <Subject><Verb>ed.
type EventType string

// History event types. "Incoming" events are delivered to the
// orchestrator (by the engine); "outgoing" ones record what the code did.
const (
	// incoming
	OrchestrationStarted      EventType = "OrchestrationStarted"
	ActivityCompleted         EventType = "ActivityCompleted"
	ActivityFailed            EventType = "ActivityFailed"
	TimerFired                EventType = "TimerFired"
	EventRaised               EventType = "EventRaised"
	SubOrchestrationCompleted EventType = "SubOrchestrationCompleted"
	SubOrchestrationFailed    EventType = "SubOrchestrationFailed"
	TerminationRequested      EventType = "TerminationRequested"
	// UpdateAccepted is an update request that passed its validator: the
	// handler runs from here, as a coroutine of the orchestration.
	UpdateAccepted EventType = "UpdateAccepted"
	// outgoing
	ActivityScheduled           EventType = "ActivityScheduled"
	TimerCreated                EventType = "TimerCreated"
	SubOrchestrationScheduled   EventType = "SubOrchestrationScheduled"
	SideEffectRecorded          EventType = "SideEffectRecorded"
	VersionMarked               EventType = "VersionMarked"
	OrchestrationCompleted      EventType = "OrchestrationCompleted"
	OrchestrationFailed         EventType = "OrchestrationFailed"
	OrchestrationContinuedAsNew EventType = "OrchestrationContinuedAsNew"
	OrchestrationTerminated     EventType = "OrchestrationTerminated"
	// UpdateCompleted is the result (Payload) or failure of an accepted
	// update, with its UpdateID.
	UpdateCompleted EventType = "UpdateCompleted"
)

// Incoming reports whether t is delivered to the orchestrator rather than
// produced by it.
func (t EventType) Incoming() bool {
	switch t {
	case OrchestrationStarted, ActivityCompleted, ActivityFailed, TimerFired, EventRaised,
		SubOrchestrationCompleted, SubOrchestrationFailed, TerminationRequested, UpdateAccepted, OrchestrationRewound:
		return true
	}
	return false
}

// Terminal reports whether t ends a run.
func (t EventType) Terminal() bool {
	switch t {
	case OrchestrationCompleted, OrchestrationFailed, OrchestrationContinuedAsNew, OrchestrationTerminated:
		return true
	}
	return false
}

// Event is one entry of an orchestration's history. One flat struct keeps
// storage and export simple; each type uses the fields it needs.
type Event struct {
	// Index is the event's position in the run's history, from 0.
	Index int64     `json:"index"`
	Type  EventType `json:"type"`
	Time  time.Time `json:"time"`
	// TaskID is the sequence number of the action the event belongs to.
	TaskID int64 `json:"taskId,omitempty"`
	// Name is the activity, orchestrator, event, or change id.
	Name string `json:"name,omitempty"`
	// InstanceID is the child's id (sub-orchestrations), the instance's
	// own id (OrchestrationStarted), or the id of an update request
	// (UpdateAccepted, UpdateCompleted: see UpdateID). One field for the
	// three keeps every event, copied at every step, its size.
	InstanceID string `json:"instanceId,omitempty"`
	// ParentID and ParentTaskID link a child to its parent (Started).
	ParentID     string `json:"parentId,omitempty"`
	ParentTaskID int64  `json:"parentTaskId,omitempty"`
	// Generation counts continue-as-new restarts (Started).
	Generation int `json:"generation,omitempty"`
	// RunID identifies the run that an OrchestrationStarted begins: unique
	// to each run (continue-as-new generations and reuses of the instance
	// id included), it keeps the idempotency keys of runs apart.
	RunID string `json:"runId,omitempty"`
	// Trace is the run's tracing record (Started), nil without one. A
	// pointer: events are copied at every step, and only starts of traced
	// runs have one.
	Trace *TraceContext `json:"trace,omitempty"`
	// Payload is an input, result or event payload, codec-encoded.
	Payload Payload `json:"payload,omitempty"`
	// Failure describes a failure.
	Failure *core.Failure `json:"failure,omitempty"`
	// FireAt is a timer's due time.
	FireAt time.Time `json:"fireAt,omitzero"`
	// Options are an activity's call options.
	Options *core.ActivityOptions `json:"options,omitempty"`
	// Attempt is the attempt that produced an activity result.
	Attempt int `json:"attempt,omitempty"`
	// Attempts is what an activity result records of its task's
	// attempts: information only, replay ignores it. Nil in histories
	// older than the field, and for an attempt canceled before it started
	// that was not retried before.
	Attempts *AttemptLog `json:"attempts,omitempty"`
	// Version is the version recorded by VersionMarked.
	Version int `json:"version,omitempty"`
	// Carried are events carried over by continue-as-new.
	Carried []Event `json:"carried,omitempty"`
}

// TraceContext is what tracing records of a run, in its
// OrchestrationStarted: the span the run's span is a child of. Only
// tracing reads it. The embedded engine also sets it on its in-memory
// copies of the run's ActivityScheduled events, for their attempts' spans;
// history never has it there.
type TraceContext struct {
	// Parent is a W3C traceparent: the caller's span that started the
	// run, or the parent run's span of a sub-orchestration.
	Parent string `json:"parent"`
}

// NewTraceContext returns the record of parent, nil if parent is "".
func NewTraceContext(parent string) *TraceContext {
	if parent == "" {
		return nil
	}
	return &TraceContext{Parent: parent}
}

// ParentOf returns t's Parent, "" if t is nil.
func (t *TraceContext) ParentOf() string {
	if t == nil {
		return ""
	}
	return t.Parent
}

// AttemptLog is what an activity's result event records of its task's
// attempts (a pointer in Event, so that the events of a fan-out stay
// small).
type AttemptLog struct {
	// StartedAt is when the attempt that produced the result started
	// (zero: it did not start).
	StartedAt time.Time `json:"startedAt,omitzero"`
	// Retried are the attempts before it, each failed and retried, in
	// order.
	Retried []AttemptRecord `json:"retried,omitempty"`
}

// UpdateID is the id of the update request of an UpdateAccepted or
// UpdateCompleted event (kept in InstanceID), "" for other events.
func (e *Event) UpdateID() string {
	if e.Type == UpdateAccepted || e.Type == UpdateCompleted {
		return e.InstanceID
	}
	return ""
}

// StartedAt is when the attempt that produced the activity result e
// started; zero when not known.
func (e *Event) StartedAt() time.Time {
	if e.Attempts == nil {
		return time.Time{}
	}
	return e.Attempts.StartedAt
}

// Retried are the attempts retried before the one that produced the
// activity result e.
func (e *Event) Retried() []AttemptRecord {
	if e.Attempts == nil {
		return nil
	}
	return e.Attempts.Retried
}

// AttemptRecord is an activity attempt that failed and was retried: kept
// with the task's retry state while it retries, and in the event of its
// result after (AttemptLog.Retried).
type AttemptRecord struct {
	Attempt int `json:"attempt"`
	// StartedAt is zero when the start is not known: an attempt without a
	// retry policy cut short by a crash (its start is not recorded).
	StartedAt time.Time `json:"startedAt,omitzero"`
	// FinishedAt is when its failure was known; for an attempt cut short
	// by a crash, when the next worker found it.
	FinishedAt time.Time     `json:"finishedAt,omitzero"`
	Failure    *core.Failure `json:"failure,omitempty"`
	// RetryAt is when the next attempt became due.
	RetryAt time.Time `json:"retryAt,omitzero"`
}

// Payload is codec-encoded bytes. In JSON it is embedded as is when that
// keeps its bytes exactly: valid JSON as encoding/json writes it (compact,
// with <, >, & and U+2028/U+2029 escaped), which is every payload of the
// default codec, except an object whose first key is "$b64". Anything
// else is {"$b64":"<base64>"}. Either way a payload round-trips byte for
// byte, JSON null included; an empty one is omitted from events.
type Payload []byte

// MarshalJSON implements json.Marshaler.
func (p Payload) MarshalJSON() ([]byte, error) {
	if len(p) == 0 {
		return []byte(`{"$b64":""}`), nil
	}
	return AppendPayload(nil, p), nil
}

// AppendPayload appends the JSON form of the non-empty payload p to b:
// p itself when it embeds (see Payload), else {"$b64":"..."}. The store's
// event encoder writes payloads with it.
func AppendPayload(b []byte, p []byte) []byte {
	if embeds(p) {
		return append(b, p...)
	}
	b = append(b, b64Prefix...)
	b = append(b, `:"`...)
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, `"}`...)
}

// embeds reports whether p is written into JSON as is: stable JSON (see
// rawjson.Stable) that is not an object beginning with the wrapper's key.
func embeds(p []byte) bool { return !bytes.HasPrefix(p, b64Prefix) && rawjson.Stable(p) }

// UnmarshalJSON implements json.Unmarshaler. JSON that is not the
// wrapper is the payload, compacted (a history edited by hand, or written
// before payloads were embedded only when compact); a "$b64" object that
// is not valid base64 is JSON too (an older store embedded such values).
func (p *Payload) UnmarshalJSON(data []byte) error {
	// Compact first: an exported history is indented, which puts
	// whitespace inside the wrapper too.
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return fmt.Errorf("replay: payload is not JSON: %w", err)
	}
	if bytes.HasPrefix(buf.Bytes(), b64Prefix) {
		var m map[string]string
		if err := json.Unmarshal(buf.Bytes(), &m); err == nil && len(m) == 1 {
			if s, ok := m["$b64"]; ok {
				if b, err := base64.StdEncoding.DecodeString(s); err == nil {
					*p = nil
					if len(b) > 0 {
						*p = b
					}
					return nil
				}
			}
		}
	}
	*p = buf.Bytes()
	return nil
}

var b64Prefix = []byte(`{"$b64"`)

// describe renders an action event for nondeterminism messages.
func describe(e *Event) string {
	if e == nil {
		return ""
	}
	switch e.Type {
	case TimerCreated:
		return string(e.Type)
	case SideEffectRecorded:
		return string(e.Type)
	}
	return string(e.Type) + " " + quote(e.Name)
}

func quote(s string) string { return `"` + s + `"` }
