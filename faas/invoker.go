package faas

import (
	"context"
	"errors"
	"fmt"
)

// Request is one activity attempt to invoke.
type Request struct {
	// Activity is the registered activity name; invokers map it to a
	// function (for Lambda: a function name, ARN or alias).
	Activity string `json:"activity"`
	// Input is the codec-encoded activity input.
	Input []byte `json:"input"`
	// InstanceID, RunID, TaskID and Attempt identify the attempt.
	InstanceID string `json:"instanceId"`
	RunID      string `json:"runId,omitempty"`
	TaskID     int64  `json:"taskId"`
	Attempt    int    `json:"attempt"`
	// IdempotencyKey is stable across redeliveries of the attempt.
	IdempotencyKey string `json:"idempotencyKey"`
}

// Local is implemented by invokers that run activities in the worker's
// own process, so activity.Heartbeat reaches the worker (which then
// enforces heartbeat timeouts). *InProcess implements it; so may a wrapper
// of it.
type Local interface {
	Invoker
	// Local reports whether the activities run in this process.
	Local() bool
}

// Invoker invokes activities. The deadline of ctx is the attempt's
// start-to-close timeout. Implementations are safe for concurrent use.
// An invoker that knows what an attempt used (faas/awslambda, from the
// invocation's REPORT line) reports it with ReportUsage(ctx, ...) before
// Invoke returns.
type Invoker interface {
	// Invoke runs one attempt and returns the encoded result, or an error;
	// errors describing the failure are *Error.
	Invoke(ctx context.Context, req Request) ([]byte, error)
}

// Kind classifies an invocation failure.
type Kind string

// The kinds of invocation failure.
const (
	KindApplication     Kind = "application"        // the activity returned an error
	KindTimeout         Kind = "timeout"            // the attempt ran past its deadline
	KindThrottled       Kind = "throttled"          // the platform refused for concurrency
	KindNotFound        Kind = "function-not-found" // no such function or activity
	KindPayloadTooLarge Kind = "payload-too-large"  // request or response over the limit
	KindCrash           Kind = "runtime-crash"      // the function's process died
	KindUnavailable     Kind = "unavailable"        // the platform failed (5xx, network)
)

// ErrInvocation is matched (errors.Is) by every *Error.
var ErrInvocation = errors.New("faas: invocation failed")

// Error is a typed invocation failure.
type Error struct {
	Kind Kind
	// Type and Message describe an application error (its activity.Error
	// type), or the platform's error otherwise.
	Type    string
	Message string
	Stack   string
	// NonRetryable is set by the activity (activity.Error), or for kinds
	// that retrying cannot fix.
	NonRetryable bool
	// Function is the function invoked.
	Function string
}

// Error names the kind of failure, the function and the message.
func (e *Error) Error() string {
	return fmt.Sprintf("faas: %s of %q: %s: %s", e.Kind, e.Function, e.Type, e.Message)
}

// Is matches ErrInvocation.
func (e *Error) Is(target error) bool { return target == ErrInvocation }
