// Package errkind sorts the errors of the client API into kinds that
// every surface reports alike: the CLI as exit codes, the HTTP API as
// statuses and problem types. Which error is which kind is decided here
// only; each surface maps a kind to its own code with a table.
package errkind

import (
	"context"
	"errors"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
)

// Kind is what an error means to the caller.
type Kind int

// The kinds, from the most specific match down (see Of).
const (
	Internal      Kind = iota // anything else: an engine or storage error
	NotFound                  // client.ErrNotFound, client.ErrScheduleNotFound: no such instance or schedule
	AlreadyExists             // client.ErrAlreadyExists, client.ErrScheduleExists: the id is taken
	NotRunning                // client.ErrNotRunning: the instance has ended (or is not suspended, for resume)
	UnknownName               // client.ErrUnknownName: no orchestrator registered under the name
	BadInput                  // a malformed request: bad JSON, a bad page token, a bad parameter, client.ErrInvalidSchedule
	TooLarge                  // codec.ErrPayloadTooLarge, or a request body over its limit
	Unsupported               // errors.ErrUnsupported: the engine lacks the feature
	Unavailable               // client.ErrEngineClosed
	Failed                    // *client.InstanceError: the orchestration ended Failed or Terminated
	Timeout                   // context.DeadlineExceeded: a deadline passed first
	Canceled                  // context.Canceled: the caller went away
)

var names = [...]string{
	Internal: "internal", NotFound: "not-found", AlreadyExists: "already-exists", NotRunning: "not-running",
	UnknownName: "unknown-name", BadInput: "bad-input", TooLarge: "too-large", Unsupported: "unsupported",
	Unavailable: "unavailable", Failed: "failed", Timeout: "timeout", Canceled: "canceled",
}

// String is the kind's stable slug, e.g. "not-found".
func (k Kind) String() string {
	if k < 0 || int(k) >= len(names) {
		return names[Internal]
	}
	return names[k]
}

// Of returns the kind of err (Internal for nil or an unknown error).
// An *client.InstanceError is Failed whatever its failure unwraps to.
func Of(err error) Kind {
	var ie *client.InstanceError
	var k *kindError
	switch {
	case err == nil:
		return Internal
	case errors.As(err, &k):
		return k.kind
	case errors.As(err, &ie):
		return Failed
	case errors.Is(err, client.ErrNotFound), errors.Is(err, client.ErrScheduleNotFound):
		return NotFound
	case errors.Is(err, client.ErrAlreadyExists), errors.Is(err, client.ErrScheduleExists):
		return AlreadyExists
	case errors.Is(err, client.ErrNotRunning):
		return NotRunning
	case errors.Is(err, client.ErrUnknownName):
		return UnknownName
	case errors.Is(err, client.ErrBadPageToken), errors.Is(err, client.ErrInvalidSchedule):
		return BadInput
	case errors.Is(err, codec.ErrPayloadTooLarge):
		return TooLarge
	case errors.Is(err, errors.ErrUnsupported):
		return Unsupported
	case errors.Is(err, client.ErrEngineClosed):
		return Unavailable
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	case errors.Is(err, context.Canceled):
		return Canceled
	}
	return Internal
}

// kindError gives an error a kind explicitly.
type kindError struct {
	kind Kind
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

// With returns err as an error of kind k (Of(With(k, err)) == k), still
// matching what err matches. With(k, nil) is nil.
func With(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{k, err}
}
