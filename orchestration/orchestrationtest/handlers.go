package orchestrationtest

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/codec"
)

// QueryAfter queries the root instance at d of virtual time from the
// start, with arg, and calls got with the result decoded as R (or the
// error, which matches the client package's sentinels as on every
// engine: client.ErrUnknownHandler, client.ErrQueryFailed, ...).
func QueryAfter[R, A any](e *Env, d time.Duration, name string, arg A, got func(R, error)) {
	e.After(d, func() {
		var zero R
		data, err := codec.Encode(e.opts.codec, e.opts.limits, fmt.Sprintf("argument of query %q", name), arg)
		if err != nil {
			got(zero, err)
			return
		}
		out, err := e.eng.QueryRaw(context.Background(), e.root, name, data)
		if err != nil {
			got(zero, err)
			return
		}
		got(codec.Decode[R](e.opts.codec, fmt.Sprintf("result of query %q", name), out))
	})
}

// UpdateAfter sends the update name with arg to the root instance at d of
// virtual time from the start, and calls got with its result decoded as R
// once its handler returns (or with the error of a refusal:
// client.ErrUpdateRejected, client.ErrUnknownHandler, ...). The handler
// runs in virtual time like the orchestrator; Run returns after got.
func UpdateAfter[R, A any](e *Env, d time.Duration, name string, arg A, got func(R, error)) {
	e.After(d, func() {
		var zero R
		data, err := codec.Encode(e.opts.codec, e.opts.limits, fmt.Sprintf("argument of update %q", name), arg)
		if err != nil {
			got(zero, err)
			return
		}
		// Sent now, at its virtual time; its answer comes once the engine
		// applied (and committed) it, which the driver lets happen.
		// The driver moves the clock on only once got has returned.
		e.handlers.Add(1)
		wait, err := e.eng.SendUpdate(context.Background(), e.root, name, data, func() { e.answering.Add(1) })
		if err != nil {
			e.handlers.Done()
			got(zero, err)
			return
		}
		go func() {
			defer e.handlers.Done()
			defer e.answering.Add(-1)
			out, err := wait(context.Background())
			if err != nil {
				got(zero, err)
				return
			}
			got(codec.Decode[R](e.opts.codec, fmt.Sprintf("result of update %q", name), out))
		}()
	})
}
