package client

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// WaitKind is what a live instance waits on.
type WaitKind string

// Wait kinds.
const (
	WaitEvent            WaitKind = "event"             // an external event (RaiseEvent)
	WaitActivity         WaitKind = "activity"          // an activity call: running, or due for its next attempt
	WaitTimer            WaitKind = "timer"             // a durable timer (Sleep, NewTimer, an event's timeout)
	WaitSubOrchestration WaitKind = "sub-orchestration" // a child instance (Child says why it waits)
	WaitWorker           WaitKind = "worker"            // no worker runs for the engine (file, task queue)
	WaitUnknownName      WaitKind = "unknown-name"      // the worker does not register the orchestrator
	WaitSuspended        WaitKind = "suspended"         // paused by Suspend
	WaitBlocked          WaitKind = "blocked"           // another reason the engine gives (Status.Blocked)
	WaitUnknown          WaitKind = "unknown"           // live, but the engine cannot tell on what
)

// Wait is one thing a live instance waits on. Fields a kind does not use
// are zero.
type Wait struct {
	Kind WaitKind `json:"kind"`
	// Name is the event, activity or child orchestrator's name, the
	// orchestrator no worker registers, or the task queue no worker
	// polls.
	Name string `json:"name,omitempty"`
	// InstanceID is the child's id (WaitSubOrchestration).
	InstanceID string `json:"instanceId,omitempty"`
	// TaskID is the action's sequence number in the run, when known.
	TaskID int64 `json:"taskId,omitempty"`
	// Since is when the wait began, when known: the event wait's step,
	// the activity's current attempt's start (or schedule), the child's
	// start, the suspension.
	Since time.Time `json:"since,omitzero"`
	// Until is when the wait ends by itself: a timer's due time, or the
	// next attempt of a failed activity (NextTry).
	Until time.Time `json:"until,omitzero"`
	// Attempt is the activity's current attempt, from 1, and MaxAttempts
	// its retry policy's bound (0: unbounded, or no retry policy).
	Attempt     int `json:"attempt,omitempty"`
	MaxAttempts int `json:"maxAttempts,omitempty"`
	// Running says the activity's current attempt runs now.
	Running bool `json:"running,omitempty"`
	// LastFailure is the failure of the activity's previous attempt.
	LastFailure *Failure `json:"lastFailure,omitempty"`
	// Reason is the engine's text: why the instance is blocked, or the
	// reason given to Suspend when the engine keeps it.
	Reason string `json:"reason,omitempty"`
	// Child explains the child instance (WaitSubOrchestration), to the
	// depth Explain bounds.
	Child *Explanation `json:"child,omitempty"`
	// Summary is the wait in one line, for people.
	Summary string `json:"summary"`
}

// Explanation says why a live instance is not moving: what its
// orchestrator code waits on now, and what stops the engine from going
// on. A finished instance has no waits.
type Explanation struct {
	InstanceID    string        `json:"instanceId"`
	Name          string        `json:"name"`
	RuntimeStatus RuntimeStatus `json:"runtimeStatus"`
	// Waits are in this order: what stops the engine (suspension, no
	// worker, an unknown name, another block), then the code's waits in
	// the order they began.
	Waits []Wait `json:"waits"`
	// Summary is the explanation in one line, for people.
	Summary string `json:"summary"`
}

// Explainer is implemented by engines' clients that know more of a live
// instance than its status and activity attempts tell: its waits for
// events, timers and sub-orchestrations, and whether a worker runs. Use
// Explain, which calls it; engines need not implement it.
type Explainer interface {
	// ExplainWaits returns the instance's waits other than its activity
	// calls' (Explain derives those from ActivityAttempts): events,
	// timers, sub-orchestrations (without Child: Explain fills it), and
	// WaitWorker when no worker runs. Summaries may be empty. An unknown
	// id is ErrNotFound.
	ExplainWaits(ctx context.Context, instanceID string) ([]Wait, error)
}

// MaxExplainDepth bounds how deep Explain follows sub-orchestrations.
const MaxExplainDepth = 4

// Explain says why the instance is not moving, on any engine: it reads
// Status and ActivityAttempts and, when c implements Explainer, the
// engine's own knowledge of the instance, and follows blocked
// sub-orchestrations to MaxExplainDepth. An unknown id is ErrNotFound.
//
// What it reports is a snapshot: by the time it returns, the instance
// may have moved on. What each engine can tell is in its documentation.
func Explain(ctx context.Context, c Client, instanceID string) (*Explanation, error) {
	return explain(ctx, c, instanceID, MaxExplainDepth)
}

func explain(ctx context.Context, c Client, id string, depth int) (*Explanation, error) {
	st, err := c.Status(ctx, id)
	if err != nil {
		return nil, err
	}
	x := &Explanation{InstanceID: st.InstanceID, Name: st.Name, RuntimeStatus: st.RuntimeStatus, Waits: []Wait{}}
	if st.RuntimeStatus.Terminal() {
		x.Summary = strings.ToLower(string(st.RuntimeStatus))
		return x, nil
	}
	attempts, err := c.ActivityAttempts(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("client.Explain(%q): %w", id, err)
	}
	code := activityWaits(attempts)
	var engine []Wait
	if e, ok := c.(Explainer); ok {
		more, err := e.ExplainWaits(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("client.Explain(%q): %w", id, err)
		}
		for _, w := range more {
			switch w.Kind {
			case WaitSuspended, WaitWorker, WaitUnknownName, WaitBlocked:
				engine = append(engine, w)
			default:
				code = append(code, w)
			}
		}
	}
	if st.Blocked != "" && !slices.ContainsFunc(engine, func(w Wait) bool { return w.Kind == WaitUnknownName || w.Kind == WaitBlocked }) {
		engine = append(engine, Wait{Kind: WaitBlocked, Reason: st.Blocked})
	}
	if st.RuntimeStatus == StatusSuspended && !slices.ContainsFunc(engine, func(w Wait) bool { return w.Kind == WaitSuspended }) {
		// The engine does not say more: since its last change.
		engine = append(engine, Wait{Kind: WaitSuspended, Since: st.UpdatedAt})
	}
	slices.SortStableFunc(engine, func(a, b Wait) int { return cmp.Compare(engineOrder(a.Kind), engineOrder(b.Kind)) })
	x.Waits = append(x.Waits, engine...)
	slices.SortStableFunc(code, func(a, b Wait) int { return a.Since.Compare(b.Since) })
	x.Waits = append(x.Waits, code...)
	for i := range x.Waits {
		w := &x.Waits[i]
		if w.Kind == WaitSubOrchestration && w.InstanceID != "" && depth > 1 {
			child, err := explain(ctx, c, w.InstanceID, depth-1)
			switch {
			case errors.Is(err, ErrNotFound): // not created yet, or purged
			case err != nil:
				return nil, err
			default:
				w.Child = child
			}
		}
		if w.Summary == "" {
			w.Summary = w.String()
		}
	}
	x.Summary = x.summary()
	return x, nil
}

// engineOrder is the order of what stops the engine in an Explanation.
func engineOrder(k WaitKind) int {
	return slices.Index([]WaitKind{WaitSuspended, WaitWorker, WaitUnknownName, WaitBlocked}, k)
}

// activityWaits are the calls whose last attempt has no outcome yet:
// running now, or due (after a back-off) for its next attempt.
func activityWaits(attempts []ActivityAttempt) []Wait {
	var out []Wait
	for i, a := range attempts {
		if i+1 < len(attempts) && attempts[i+1].TaskID == a.TaskID {
			continue // not the call's last attempt
		}
		if a.State.Finished() {
			continue
		}
		w := Wait{Kind: WaitActivity, Name: a.Name, TaskID: a.TaskID, Attempt: a.Attempt, MaxAttempts: a.MaxAttempts,
			Running: a.State == AttemptRunning, Since: a.ScheduledAt}
		if w.Running && !a.StartedAt.IsZero() {
			w.Since = a.StartedAt
		}
		if !w.Running && a.Attempt > 1 {
			w.Until = a.ScheduledAt
		}
		if i > 0 && attempts[i-1].TaskID == a.TaskID {
			w.LastFailure = attempts[i-1].Failure
		}
		out = append(out, w)
	}
	return out
}

// String is the wait in one line.
func (w Wait) String() string {
	var b strings.Builder
	switch w.Kind {
	case WaitEvent:
		fmt.Fprintf(&b, "waiting for the event %q", w.Name)
		since(&b, w.Since)
	case WaitActivity:
		fmt.Fprintf(&b, "activity %q attempt %d", w.Name, w.Attempt)
		if w.MaxAttempts > 0 {
			fmt.Fprintf(&b, " of %d", w.MaxAttempts)
		}
		if w.Running {
			b.WriteString(" running")
			since(&b, w.Since)
		}
		if w.LastFailure != nil {
			fmt.Fprintf(&b, ", failing with %q", w.LastFailure.Message)
		}
		if !w.Running && !w.Until.IsZero() {
			fmt.Fprintf(&b, ", next try at %s", stamp(w.Until))
		} else if !w.Running {
			b.WriteString(" scheduled") // or running unseen: see ActivityAttempts
			since(&b, w.Since)
		}
	case WaitTimer:
		fmt.Fprintf(&b, "a timer due at %s", stamp(w.Until))
	case WaitSubOrchestration:
		fmt.Fprintf(&b, "blocked on sub-orchestration %q (%s)", w.InstanceID, w.Name)
		if w.Child != nil && w.Child.Summary != "" {
			fmt.Fprintf(&b, ": %s", w.Child.Summary)
		}
	case WaitWorker:
		b.WriteString("no worker running")
		if w.Name != "" {
			fmt.Fprintf(&b, " for %s", w.Name)
		}
		if w.Reason != "" {
			fmt.Fprintf(&b, " (%s)", w.Reason)
		}
	case WaitUnknownName:
		fmt.Fprintf(&b, "the worker does not know the orchestrator %q", w.Name)
		if w.Reason != "" {
			fmt.Fprintf(&b, " (%s)", w.Reason)
		}
	case WaitSuspended:
		b.WriteString("suspended")
		since(&b, w.Since)
		if w.Reason != "" {
			fmt.Fprintf(&b, ": %s", w.Reason)
		}
	case WaitBlocked:
		fmt.Fprintf(&b, "blocked: %s", w.Reason)
	default:
		b.WriteString("waiting, on what the engine cannot tell")
		if w.Reason != "" {
			fmt.Fprintf(&b, " (%s)", w.Reason)
		}
	}
	return b.String()
}

func since(b *strings.Builder, t time.Time) {
	if !t.IsZero() {
		fmt.Fprintf(b, " since %s", stamp(t))
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// summary joins the waits' summaries: the first three, and how many more.
func (x *Explanation) summary() string {
	if len(x.Waits) == 0 {
		return strings.ToLower(string(x.RuntimeStatus)) + ", waiting on nothing the engine knows of"
	}
	const shown = 3
	parts := make([]string, 0, shown+1)
	for i, w := range x.Waits {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(x.Waits)-shown))
			break
		}
		parts = append(parts, w.Summary)
	}
	return strings.Join(parts, "; ")
}
