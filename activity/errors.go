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
	// Stack is the stack trace recorded with a panic, if any.
	Stack string
	// Cause is the underlying error, when known locally.
	Cause error
}

// NewError returns a retryable application error.
func NewError(errType, message string) *Error {
	return &Error{Type: errType, Message: message}
}

// NewNonRetryableError returns an application error that is never retried.
func NewNonRetryableError(errType, message string) *Error {
	return &Error{Type: errType, Message: message, NonRetryable: true}
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

// errorOf returns the *Error that err, returned by an activity function,
// is recorded as: err itself if it is one; one of the type of the *Error
// that err wraps, in err's words; else one of type "Error".
func errorOf(err error) *Error {
	var e *Error
	if !errors.As(err, &e) {
		return &Error{Type: core.FailureError, Message: err.Error(), Cause: err}
	}
	if e == err {
		return e
	}
	f := core.Described(err, e, &core.Failure{Type: e.Type, Message: e.Message})
	return &Error{Type: e.Type, Message: f.Message, NonRetryable: e.NonRetryable, Stack: e.Stack, Cause: err}
}

// IsType reports whether err is, or wraps, an *Error of the given type.
func IsType(err error, errType string) bool {
	var e *Error
	return errors.As(err, &e) && e.Type == errType
}
