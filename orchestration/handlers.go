package orchestration

import (
	"errors"
	"fmt"

	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/option"
)

// HandleQuery registers fn as the query handler name of the running
// orchestration (replacing any before it): client.Query calls it with a
// decoded argument and gets its result. A query reads the current state
// and records nothing: fn must not schedule work, wait, or change state
// (a handler that tries, returns an error or panics is an error to the
// caller, matching client.ErrQueryFailed; the orchestration goes on).
// Register handlers at the start of the orchestrator, before its first
// wait, so that they exist whenever a client asks. fn runs on the
// orchestration's thread between its steps: it sees the variables the
// orchestrator's code shares with it without locks.
func HandleQuery[Q, R any](ctx Context, name string, fn func(Q) (R, error)) error {
	if err := checkHandler("HandleQuery", name, fn == nil); err != nil {
		return err
	}
	c := ctx.engine()
	c.SetQueryHandler(name, func(arg []byte) ([]byte, error) {
		q, err := decodeArg[Q](c, fmt.Sprintf("argument of query %q", name), arg)
		if err != nil {
			return nil, err
		}
		r, err := fn(q)
		if err != nil {
			return nil, err
		}
		return codec.Encode(c.Codec(), c.Limits(), fmt.Sprintf("result of query %q", name), r)
	})
	return nil
}

// UpdateOption configures an update handler (HandleUpdate). Options are
// typed by the update's argument, so that a validator's argument type is
// checked by the compiler.
type UpdateOption[U any] func(*updateSettings[U]) error

type updateSettings[U any] struct {
	validate func(U) error
}

// WithValidator runs fn on each update's argument before anything is
// recorded: an error (or a panic) rejects the update, which leaves no
// trace in history, and the caller gets client.ErrUpdateRejected with the
// message. Like a query handler, fn reads state only.
func WithValidator[U any](fn func(U) error) UpdateOption[U] {
	return func(s *updateSettings[U]) error {
		if fn == nil {
			return errors.New("WithValidator(nil): nil validator")
		}
		s.validate = fn
		return nil
	}
}

// HandleUpdate registers fn as the update handler name of the running
// orchestration (replacing any before it). client.Update sends an
// argument; once the validator (WithValidator) accepts it, the update is
// recorded in history (UpdateAccepted), fn runs as a coroutine of the
// orchestration (it may call activities, sleep and wait like the
// orchestrator, on its ctx), and its result or error is recorded
// (UpdateCompleted) and returned to the caller. On replay recorded updates
// run again at the same points, so register handlers before the first
// wait. An argument that does not decode as U is rejected like a
// validator's refusal.
func HandleUpdate[U, R any](ctx Context, name string, fn func(Context, U) (R, error), opts ...UpdateOption[U]) error {
	if err := checkHandler("HandleUpdate", name, fn == nil); err != nil {
		return err
	}
	var s updateSettings[U]
	if err := option.Apply(&s, opts); err != nil {
		return fmt.Errorf("HandleUpdate(%q): %w", name, err)
	}
	c := ctx.engine()
	what := fmt.Sprintf("argument of update %q", name)
	c.SetUpdateHandler(name, core.UpdateHandler{
		Validate: func(arg []byte) error {
			u, err := decodeArg[U](c, what, arg)
			if err != nil || s.validate == nil {
				return err
			}
			return s.validate(u)
		},
		Handle: func(hc core.Context, arg []byte) ([]byte, error) {
			u, err := decodeArg[U](hc, what, arg)
			if err != nil {
				return nil, err
			}
			r, err := fn(derive(ctx, hc), u)
			if err != nil {
				return nil, err
			}
			return codec.Encode(hc.Codec(), hc.Limits(), fmt.Sprintf("result of update %q", name), r)
		},
	})
	return nil
}

func checkHandler(fn, name string, nilHandler bool) error {
	switch {
	case name == "":
		return fmt.Errorf("%s: empty handler name", fn)
	case nilHandler:
		return fmt.Errorf("%s(%q): nil handler", fn, name)
	}
	return nil
}

// decodeArg decodes a handler's argument; none (empty) is the zero value.
func decodeArg[T any](c core.Context, what string, arg []byte) (T, error) {
	if len(arg) == 0 {
		var zero T
		return zero, nil
	}
	return codec.Decode[T](c.Codec(), what, arg)
}
