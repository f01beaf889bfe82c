package orchestration

import (
	"errors"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/option"
)

// RetryPolicy says how a failed activity is retried. The zero value (and no
// policy at all) means a single attempt. WithRetry rejects a policy with a
// negative field, a BackoffCoefficient below 1, or a MaxInterval below the
// InitialInterval.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, including the first.
	MaxAttempts int
	// InitialInterval is the delay before the first retry (default 1s).
	InitialInterval time.Duration
	// BackoffCoefficient multiplies the delay after each retry (default 2).
	BackoffCoefficient float64
	// MaxInterval caps the delay (default 100 x InitialInterval).
	MaxInterval time.Duration
	// NonRetryableErrorTypes are activity.Error types never retried.
	NonRetryableErrorTypes []string
}

// Call schedules activity a with input in and returns a Future of its
// result. Its options are the defaults of ctx (see WithCallOptions), then
// opts. Invalid options, a nil activity, or an input that cannot be
// encoded give a Future that is already failed with an error naming the
// problem; nothing is scheduled then. On a canceled context the Future
// fails with ErrCanceled.
func Call[In, Out any](ctx Context, a *activity.Activity[In, Out], in In, opts ...CallOption) Future[Out] {
	if a == nil {
		return failed[Out](errors.New("orchestration.Call: nil activity"))
	}
	return CallNamed[In, Out](ctx, a.Name(), in, opts...)
}

// CallNamed schedules an activity by name, for activities defined in
// another code base (or language). Prefer Call.
func CallNamed[In, Out any](ctx Context, name string, in In, opts ...CallOption) Future[Out] {
	c := ctx.engine()
	o, err := buildCall(ctx, opts)
	if err != nil {
		return failed[Out](fmt.Errorf("orchestration.Call(%q): %w", name, err))
	}
	if err := ctx.Err(); err != nil {
		return failed[Out](err)
	}
	data, err := codec.EncodeNamed(c.Codec(), c.Limits(), "input of activity", name, in)
	if err != nil {
		return failed[Out](fmt.Errorf("orchestration.Call(%q): %w", name, err))
	}
	return fromEngine[Out](c, c.ScheduleActivity(name, data, o), kindActivity, name)
}

// CallSub starts orchestrator o as a child of this orchestration and
// returns a Future of its result. Terminating the parent terminates it.
func CallSub[In, Out any](ctx Context, o *Orchestrator[In, Out], in In, opts ...SubOption) Future[Out] {
	if o == nil {
		return failed[Out](errors.New("orchestration.CallSub: nil orchestrator"))
	}
	return CallSubNamed[In, Out](ctx, o.Name(), in, opts...)
}

// CallSubNamed starts a sub-orchestration by name. Prefer CallSub.
func CallSubNamed[In, Out any](ctx Context, name string, in In, opts ...SubOption) Future[Out] {
	c := ctx.engine()
	var so subSettings
	if err := option.Apply(&so, opts); err != nil {
		return failed[Out](fmt.Errorf("orchestration.CallSub(%q): %w", name, err))
	}
	if err := ctx.Err(); err != nil {
		return failed[Out](err)
	}
	data, err := codec.EncodeNamed(c.Codec(), c.Limits(), "input of sub-orchestration", name, in)
	if err != nil {
		return failed[Out](fmt.Errorf("orchestration.CallSub(%q): %w", name, err))
	}
	return fromEngine[Out](c, c.CallSubOrchestration(name, data, so.sub), kindSub, name)
}

// CallAll calls activity a once per input with at most maxInFlight calls
// running at a time (0 or less: no bound), and returns a Future of the
// results in input order. After the first failure it starts no new calls,
// waits for those in flight, and fails with an *IndexedError naming the
// lowest failed index.
func CallAll[In, Out any](ctx Context, a *activity.Activity[In, Out], inputs []In, maxInFlight int, opts ...CallOption) Future[[]Out] {
	if maxInFlight <= 0 || maxInFlight >= len(inputs) {
		fs := make([]Future[Out], len(inputs))
		for i, in := range inputs {
			fs[i] = Call(ctx, a, in, opts...)
		}
		return All(ctx, fs...)
	}
	return Go(ctx, func(ctx Context) ([]Out, error) {
		out := make([]Out, len(inputs))
		fs := make([]Future[Out], len(inputs))
		var inflight []int
		next := 0
		var firstErr *IndexedError
		for next < len(inputs) || len(inflight) > 0 {
			for firstErr == nil && next < len(inputs) && len(inflight) < maxInFlight {
				fs[next] = Call(ctx, a, inputs[next], opts...)
				inflight = append(inflight, next)
				next++
			}
			ws := make([]Awaitable, len(inflight))
			for i, idx := range inflight {
				ws[i] = fs[idx]
			}
			if _, err := Any(ctx, ws...); err != nil {
				return nil, err
			}
			kept := inflight[:0]
			for _, idx := range inflight {
				if !fs[idx].Ready() {
					kept = append(kept, idx)
					continue
				}
				v, err := fs[idx].Await(ctx)
				if err != nil {
					if firstErr == nil || idx < firstErr.Index {
						firstErr = &IndexedError{Index: idx, Total: len(inputs), Err: err}
					}
					continue
				}
				out[idx] = v
			}
			inflight = kept
			if firstErr != nil && len(inflight) == 0 {
				break
			}
		}
		if firstErr != nil {
			return nil, firstErr
		}
		return out, nil
	})
}
