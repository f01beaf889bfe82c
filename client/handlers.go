package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudbutton/cloudbutton/codec"
)

// Errors of Query and Update; match them with errors.Is. The error's
// message names the instance and the handler, and carries the handler's
// (or the validator's) own message. An instance that has ended (or does
// not run yet) is ErrNotRunning; an unknown id ErrNotFound.
var (
	// ErrUnknownHandler: the running orchestration registers no query or
	// update handler of that name.
	ErrUnknownHandler = errors.New("client: no handler registered under that name")
	// ErrUpdateRejected: the update's validator refused it, or panicked,
	// or its argument did not decode. Nothing was recorded.
	ErrUpdateRejected = errors.New("client: update rejected")
	// ErrUpdateFailed: the update was accepted (it is in history) and its
	// handler returned an error.
	ErrUpdateFailed = errors.New("client: update failed")
	// ErrQueryFailed: the query handler returned an error, panicked, or
	// tried to schedule work or change state. The instance goes on.
	ErrQueryFailed = errors.New("client: query failed")
)

// Query calls the query handler name of a running instance with arg and
// decodes its result as R. A query records nothing; it is answered from
// the instance's current state. Errors: see ErrUnknownHandler,
// ErrQueryFailed, ErrNotRunning, ErrNotFound.
func Query[R, A any](ctx context.Context, c Client, instanceID, name string, arg A) (R, error) {
	var zero R
	data, err := codec.Encode(c.Codec(), unbounded, fmt.Sprintf("argument of query %q", name), arg)
	if err != nil {
		return zero, err
	}
	out, err := c.QueryRaw(ctx, instanceID, name, data)
	if err != nil {
		return zero, err
	}
	return codec.Decode[R](c.Codec(), fmt.Sprintf("result of query %q", name), out)
}

// Update sends the update name with arg to a running instance, waits until
// its handler returns, and decodes its result as R. Once the validator
// accepts it, the update is in history (UpdateAccepted, UpdateCompleted)
// and replayed deterministically; a rejected update leaves no trace.
// Errors: see ErrUnknownHandler, ErrUpdateRejected, ErrUpdateFailed,
// ErrNotRunning (also when the instance ends before the handler returns),
// ErrNotFound. If ctx ends first, the update may still be applied.
func Update[R, A any](ctx context.Context, c Client, instanceID, name string, arg A) (R, error) {
	var zero R
	data, err := codec.Encode(c.Codec(), unbounded, fmt.Sprintf("argument of update %q", name), arg)
	if err != nil {
		return zero, err
	}
	out, err := c.UpdateRaw(ctx, instanceID, name, data)
	if err != nil {
		return zero, err
	}
	return codec.Decode[R](c.Codec(), fmt.Sprintf("result of update %q", name), out)
}
