package core

import "fmt"

// Stable error codes, printed in brackets at the start of messages so users
// can search for them.
const (
	CodeNondeterminism = "CB1100"
	CodeDeadlock       = "CB1200"
)

// NondeterminismError reports orchestrator code that diverged from its
// recorded history.
type NondeterminismError struct {
	InstanceID string
	// Step is the action sequence number (task id) where they diverged.
	Step int64
	// Recorded is what history has at that step ("" if nothing).
	Recorded string
	// Code is what the code did at that step ("" if nothing).
	Code string
	// Detail adds context, such as a version range.
	Detail string
}

// Error starts with the stable code [CB1100].
func (e *NondeterminismError) Error() string {
	rec, code := e.Recorded, e.Code
	if rec == "" {
		rec = "nothing"
	}
	if code == "" {
		code = "nothing"
	}
	msg := fmt.Sprintf("[%s] nondeterminism in orchestration %q at step %d: history recorded %s, but the code did %s",
		CodeNondeterminism, e.InstanceID, e.Step, rec, code)
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// Failure returns the recorded form.
func (e *NondeterminismError) Failure() *Failure {
	return &Failure{Type: FailureNondeterminism, Message: e.Error(), NonRetryable: true}
}

// DeadlockError reports orchestrator code that blocked outside the engine.
type DeadlockError struct {
	InstanceID string
	Timeout    string
	Stack      string
}

// Error starts with the stable code [CB1200].
func (e *DeadlockError) Error() string {
	return fmt.Sprintf("[%s] orchestration %q blocked for %s outside the engine: orchestrator code must not use time.Sleep, channels, mutexes or I/O; use orchestration.Sleep, futures and activities",
		CodeDeadlock, e.InstanceID, e.Timeout)
}

// Failure returns the recorded form.
func (e *DeadlockError) Failure() *Failure {
	return &Failure{Type: FailureDeadlock, Message: e.Error(), Stack: e.Stack, NonRetryable: true}
}
