package activity

import (
	"errors"

	"github.com/cloudbutton/cloudbutton/internal/core"
)

// Error is an application error returned by an activity. Its Type survives
// the trip through history, FaaS invocations and both engines, so an
// orchestrator can match it (errors.As) and a retry policy can name it as
// non-retryable.
type Error struct {
	// Type classifies the error, e.g. "InsufficientFunds".
	Type string
	// Message is the human-readable text.
	Message string
	// NonRetryable stops retries whatever the retry policy says.
	NonRetryable bool
	// Cause is the underlying error, when known locally.
	Cause error
	stack string
}

// NewError returns a retryable application error.
func NewError(errType, message string) *Error {
	return &Error{Type: errType, Message: message}
}

// NewNonRetryableError returns an application error that is never retried.
func NewNonRetryableError(errType, message string) *Error {
	return &Error{Type: errType, Message: message, NonRetryable: true}
}

// FromFailure rebuilds an *Error from its recorded form.
func FromFailure(typ, message, stack string, nonRetryable bool) *Error {
	return &Error{Type: typ, Message: message, NonRetryable: nonRetryable, stack: stack}
}

// Error returns "Type: message".
func (e *Error) Error() string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// Stack returns the stack trace recorded with a panic, if any.
func (e *Error) Stack() string { return e.stack }

// Failure returns the recorded form of the error.
func (e *Error) Failure() *core.Failure {
	typ := e.Type
	if typ == "" {
		typ = core.FailureError
	}
	return &core.Failure{Type: typ, Message: e.Message, Stack: e.stack, NonRetryable: e.NonRetryable}
}

// IsType reports whether err is, or wraps, an *Error of the given type.
func IsType(err error, errType string) bool {
	var e *Error
	return errors.As(err, &e) && e.Type == errType
}
