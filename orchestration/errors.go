package orchestration

import (
	"fmt"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
)

var (
	// ErrCanceled is returned by waits once the orchestration was asked to
	// terminate; see WithoutCancel for clean-up.
	ErrCanceled = core.ErrCanceled
	// ErrTimeout is matched (errors.Is) by timeouts: an event wait that
	// timed out, an activity attempt over its start-to-close timeout.
	ErrTimeout = failerr.ErrTimeout
	// ErrNotRegistered is matched by calls to an activity or orchestrator name
	// that no worker registered.
	ErrNotRegistered = failerr.ErrNotRegistered
	// ErrPanic is matched by failures that were panics.
	ErrPanic = failerr.ErrPanic
)

// NondeterminismError reports orchestrator code that diverged from its
// recorded history. Its message starts with the stable code [CB1100].
type NondeterminismError = core.NondeterminismError

// DeadlockError reports orchestrator code that blocked outside the engine.
// Its message starts with the stable code [CB1200].
type DeadlockError = core.DeadlockError

// ActivityError is what Await returns for a failed activity, after its
// retries. It unwraps to an *activity.Error with the same Type and Message,
// and to ErrTimeout, ErrNotRegistered, ErrPanic or ErrCanceled where they
// apply. An orchestration that fails with it (wrapped or not) fails with
// its Type, and the client's error for the instance matches an
// *ActivityError naming the same activity, on every engine.
type ActivityError struct {
	Activity     string
	Type         string
	Message      string
	Stack        string
	NonRetryable bool
}

// Error names the activity and its failure.
func (e *ActivityError) Error() string {
	return fmt.Sprintf("activity %q failed: %s: %s", e.Activity, e.Type, e.Message)
}

// Unwrap returns the application error and any matching sentinel.
func (e *ActivityError) Unwrap() []error {
	return failerr.Unwrap(&core.Failure{Type: e.Type, Message: e.Message, Stack: e.Stack,
		NonRetryable: e.NonRetryable, Activity: e.Activity})
}

// SubOrchestrationError is what Await returns for a failed
// sub-orchestration; it unwraps like ActivityError, and reaches the
// client of an orchestration that fails with it as an
// *SubOrchestrationError naming the same child.
type SubOrchestrationError struct {
	Orchestration string
	Type          string
	Message       string
	Stack         string
}

// Error names the sub-orchestration and its failure.
func (e *SubOrchestrationError) Error() string {
	return fmt.Sprintf("sub-orchestration %q failed: %s: %s", e.Orchestration, e.Type, e.Message)
}

// Unwrap returns the application error and any matching sentinel.
func (e *SubOrchestrationError) Unwrap() []error {
	return failerr.Unwrap(&core.Failure{Type: e.Type, Message: e.Message, Stack: e.Stack,
		SubOrchestration: e.Orchestration})
}

// IndexedError reports which future of a fan-in failed first.
type IndexedError struct {
	Index int
	Total int
	Err   error
}

// Error names the failed future's index.
func (e *IndexedError) Error() string {
	return fmt.Sprintf("future %d of %d failed: %v", e.Index, e.Total, e.Err)
}

// Unwrap returns the future's error.
func (e *IndexedError) Unwrap() error { return e.Err }

// TimeoutError reports an event wait that timed out; it matches ErrTimeout.
type TimeoutError struct {
	// What names what timed out: the event.
	What string
	msg  string
}

// Error says what timed out, and the limit.
func (e *TimeoutError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return e.What + " timed out"
}

// Is matches ErrTimeout.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// failureError turns an engine failure into the error user code sees.
func failureError(kind, name string, f *core.Failure) error {
	if f.Type == core.FailureCanceled && f.Message == core.ErrCanceled.Error() {
		return ErrCanceled
	}
	switch kind {
	case kindActivity:
		return &ActivityError{Activity: name, Type: f.Type, Message: f.Message, Stack: f.Stack, NonRetryable: f.NonRetryable}
	case kindSub:
		return &SubOrchestrationError{Orchestration: name, Type: f.Type, Message: f.Message, Stack: f.Stack}
	case kindEvent:
		if f.Type == core.FailureTimeout {
			return &TimeoutError{What: name, msg: f.Message}
		}
	}
	return &activity.Error{Type: f.Type, Message: f.Message, Stack: f.Stack, NonRetryable: f.NonRetryable}
}

const (
	kindActivity = "activity"
	kindSub      = "sub-orchestration"
	kindEvent    = "event"
	kindTimer    = "timer"
	kindSide     = "side effect"
)
