package core

import (
	"errors"
	"fmt"
)

// QueryHandler answers a query from an orchestration's current state: it
// decodes the argument, reads, and encodes the result. It must not
// schedule work or change state.
type QueryHandler func(arg []byte) ([]byte, error)

// UpdateHandler is an update registered by orchestrator code.
type UpdateHandler struct {
	// Validate, when set, accepts or refuses the argument before anything
	// is recorded; like a query it reads state only. Engines do not run
	// it on replay.
	Validate func(arg []byte) error
	// Handle runs the accepted update as a coroutine of the orchestration
	// (it may await activities and timers) and returns the encoded result.
	Handle func(ctx Context, arg []byte) ([]byte, error)
}

// Errors of handler requests, each wrapped in a *HandlerError. Engines
// map them onto the client package's sentinels.
var (
	// ErrUnknownHandler: the running orchestration registers no query
	// (or update) handler under that name.
	ErrUnknownHandler = errors.New("no handler registered under that name")
	// ErrUpdateRejected: the validator refused the update (or panicked).
	ErrUpdateRejected = errors.New("update rejected")
	// ErrQueryFailed: the query handler returned an error, panicked, or
	// tried to change the orchestration's state.
	ErrQueryFailed = errors.New("query failed")
	// ErrHandlerNotRunning: the run has ended.
	ErrHandlerNotRunning = errors.New("orchestration is not running")
)

// HandlerError is the error of a query or an update request: Kind is one
// of the errors above, Name the handler and Message what went wrong.
type HandlerError struct {
	Kind    error
	What    string // "query" or "update"
	Name    string
	Message string
}

// Error names the handler and says what went wrong.
func (e *HandlerError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s %q: %v", e.What, e.Name, e.Kind)
	}
	return fmt.Sprintf("%s %q: %v: %s", e.What, e.Name, e.Kind, e.Message)
}

// Unwrap returns Kind.
func (e *HandlerError) Unwrap() error { return e.Kind }
