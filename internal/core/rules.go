package core

import (
	"fmt"
	"time"
)

// The sequencing rules every engine follows (the replay engine, the
// Temporal adapter, and through the replay engine the test harness). They
// are written once here so that step numbers, default child ids and
// timeout failures are the same on every engine: a history, a
// nondeterminism error or a child id means the same thing everywhere.
//
// Step numbers. An orchestration run numbers its actions 1, 2, 3... in the
// order the code issues them (across all its coroutines, which run one at
// a time). These take the next step number:
//
//   - ScheduleActivity: one step per call (every retry of it shares it);
//   - NewTimer: one step;
//   - CallSubOrchestration: one step;
//   - SideEffect: one step;
//   - WaitEvent with a timeout, when no event of that name is buffered:
//     one step, its timer's;
//
// and these take none:
//
//   - WaitEvent without a timeout, or served at once by a buffered event
//     (events are matched by name, in order);
//   - GetVersion (markers are matched by change id, so adding a
//     GetVersion to running code does not shift the steps after it);
//   - NewUUID, Now, SetCustomStatus, Go, NewPromise, Wait.
//
// A new run (continue-as-new) starts again at step 1.

// TakesStep reports whether the action named by one of the Action*
// constants takes a step number (the rules above); for ActionWaitEvent,
// withTimeout means a timeout and no buffered event.
func TakesStep(action string, withTimeout bool) bool {
	switch action {
	case ActionActivity, ActionTimer, ActionSubOrchestration, ActionSideEffect:
		return true
	case ActionWaitEvent:
		return withTimeout
	}
	return false
}

// Actions named by TakesStep.
const (
	ActionActivity         = "ScheduleActivity"
	ActionTimer            = "NewTimer"
	ActionSubOrchestration = "CallSubOrchestration"
	ActionSideEffect       = "SideEffect"
	ActionWaitEvent        = "WaitEvent"
	ActionGetVersion       = "GetVersion"
	ActionNewUUID          = "NewUUID"
)

// ChildInstanceID is the default instance id of a sub-orchestration that
// the parent started at step seq: "<parent>:<step>".
func ChildInstanceID(parentID string, seq int64) string {
	return fmt.Sprintf("%s:%d", parentID, seq)
}

// MaxTimer is the longest timer (a Sleep, NewTimer or event-wait timeout)
// an orchestration may set: 100 years. A longer one is refused when the
// code sets it, on every engine, rather than overflowing a stored due time
// and firing at once.
const MaxTimer = 100 * 365 * 24 * time.Hour

// CheckTimer refuses a timer longer than MaxTimer, naming both.
func CheckTimer(what string, d time.Duration) error {
	if d > MaxTimer {
		return fmt.Errorf("orchestration: %s of %s is over the limit of %s (100 years)", what, d, MaxTimer)
	}
	return nil
}

// Timeout failures. Every timeout is a Failure of type FailureTimeout whose
// message names what timed out and the limit; whether it is retried is the
// retry policy's decision (NonRetryable is false), except for event waits,
// which are not attempts.

// EventTimeout is the failure of a WaitEvent that saw no event in time.
func EventTimeout(name string, timeout time.Duration) *Failure {
	return &Failure{Type: FailureTimeout, NonRetryable: true,
		Message: fmt.Sprintf("event %q not received within %s", name, timeout)}
}

// StartToCloseTimeout is the failure of an activity attempt that ran past
// its start-to-close timeout.
func StartToCloseTimeout(activity string, attempt int, timeout time.Duration) *Failure {
	return &Failure{Type: FailureTimeout,
		Message: fmt.Sprintf("activity %q attempt %d exceeded its start-to-close timeout of %s", activity, attempt, timeout)}
}

// HeartbeatTimeout is the failure of an activity attempt that sent no
// heartbeat for its heartbeat timeout.
func HeartbeatTimeout(activity string, attempt int, timeout time.Duration) *Failure {
	return &Failure{Type: FailureTimeout,
		Message: fmt.Sprintf("activity %q attempt %d sent no heartbeat for %s (its heartbeat timeout)", activity, attempt, timeout)}
}

// ActivityCanceled is the outcome of an activity attempt stopped, or never
// started, because its orchestration was terminated.
func ActivityCanceled(activity string, attempt int) *Failure {
	return &Failure{Type: FailureCanceled, NonRetryable: true,
		Message: fmt.Sprintf("activity %q attempt %d canceled: its orchestration was terminated", activity, attempt)}
}
