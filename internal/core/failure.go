// Package core is the contract between the public orchestration API and the
// engines that run it (the replay engine, the Temporal adapter, the test
// harness). It is byte-level and untyped on purpose: typing happens in the
// public packages, encoding in the codec, execution in the engines.
package core

import (
	"errors"
	"fmt"
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

// Failer is implemented by errors that know their own recorded form, such
// as activity.Error.
type Failer interface {
	Failure() *Failure
}

// FailureFrom converts any error to its recorded form. Errors implementing
// Failer describe themselves; others become type FailureError (or the type
// of a well-known sentinel).
func FailureFrom(err error) *Failure {
	if err == nil {
		return nil
	}
	var fe Failer
	if errors.As(err, &fe) {
		f := fe.Failure()
		if f != nil {
			// Keep the outer message when the error wraps the Failer (an
			// error that is the Failer itself describes itself).
			if msg := err.Error(); any(fe) != any(err) && msg != f.Error() && msg != f.Message {
				cp := *f
				cp.Message = msg
				return &cp
			}
			return f
		}
	}
	return &Failure{Type: FailureError, Message: err.Error()}
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
