// Package core is the contract between the public orchestration API and the
// engines that run it (the replay engine, the Temporal adapter, the test
// harness). It is byte-level and untyped on purpose: typing happens in the
// public packages, encoding in the codec, execution in the engines.
package core

import (
	"fmt"
	"reflect"
	"strings"
)

// Failure types recorded in history for failures that are not application
// errors. Application errors keep the type their activity gave them.
const (
	FailureError                = "Error"                // a plain Go error
	FailurePanic                = "Panic"                // a recovered panic
	FailureTimeout              = "Timeout"              // a timeout (activity start-to-close, event wait)
	FailureCanceled             = "Canceled"             // canceled by terminate
	FailureActivityNotFound     = "ActivityNotFound"     // no activity registered under the name
	FailureOrchestratorNotFound = "OrchestratorNotFound" // no orchestrator registered under the name
	FailureDecode               = "DecodeError"          // a payload that does not decode into the declared type
	FailureEncode               = "EncodeError"          // a value that cannot be encoded
	FailurePayloadTooLarge      = "PayloadTooLarge"      // a payload over the size limit
	FailureNondeterminism       = "Nondeterminism"       // code diverged from history
	FailureDeadlock             = "Deadlock"             // orchestrator blocked outside the engine
	FailureThrottled            = "Throttled"            // the FaaS platform throttled the invocation
	FailureCrash                = "RuntimeCrash"         // the function's runtime crashed
	FailureInterrupted          = "Interrupted"          // the worker stopped (crashed) during the attempt
)

// Failure is an error as recorded in history: serialisable and engine
// neutral.
type Failure struct {
	Type         string   `json:"type"`
	Message      string   `json:"message"`
	Stack        string   `json:"stack,omitempty"`
	NonRetryable bool     `json:"nonRetryable,omitempty"`
	Cause        *Failure `json:"cause,omitempty"`
	// Activity names the activity, and SubOrchestration the child, whose
	// failure this is: set when an orchestration fails with the error of
	// one of its calls, so that its client's error matches the same
	// *orchestration.ActivityError or *SubOrchestrationError.
	Activity         string `json:"activity,omitempty"`
	SubOrchestration string `json:"subOrchestration,omitempty"`
}

// Error formats the failure as "Type: message".
func (f *Failure) Error() string {
	if f == nil {
		return "<nil failure>"
	}
	var b strings.Builder
	b.WriteString(f.Type)
	b.WriteString(": ")
	b.WriteString(f.Message)
	if f.Cause != nil {
		b.WriteString(": ")
		b.WriteString(f.Cause.Error())
	}
	return b.String()
}

// Failer is implemented by the engine's own errors that know their
// recorded form (nondeterminism, deadlock, undecodable input); package
// failerr turns every error into its recorded form.
type Failer interface {
	Failure() *Failure
}

// Described returns the failure that err records when its tree holds
// describer, which described itself as f: an err that wraps describer
// with words of its own keeps them as the message. This is the one rule
// for every error recorded: an activity's, an orchestrator's.
func Described(err, describer error, f *Failure) *Failure {
	if msg := err.Error(); !sameError(err, describer) && msg != f.Error() && msg != f.Message {
		cp := *f
		cp.Message = msg
		return &cp
	}
	return f
}

// sameError compares errors without panicking on uncomparable ones.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	ta := reflect.TypeOf(a)
	return ta == reflect.TypeOf(b) && ta.Comparable() && a == b
}

// InterruptedFailure is the outcome of an activity attempt that was in
// flight when its worker stopped (kill -9, a crash): it counts as an
// attempt, and the retry policy decides what follows.
func InterruptedFailure(activity string, attempt int) *Failure {
	return &Failure{Type: FailureInterrupted,
		Message: fmt.Sprintf("activity %q attempt %d was interrupted: its worker stopped during the attempt", activity, attempt)}
}

// PanicFailure records a recovered panic with its stack.
func PanicFailure(v any, stack []byte) *Failure {
	return &Failure{Type: FailurePanic, Message: fmt.Sprint(v), Stack: string(stack)}
}
