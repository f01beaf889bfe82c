package orchestration

import (
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/option"
)

// NewTimer returns a Future that is ready after d of orchestration time.
// The timer is durable: it survives restarts of the worker. A timer longer
// than 100 years fails at once with an error that states the limit.
func NewTimer(ctx Context, d time.Duration) Future[struct{}] {
	if err := ctx.Err(); err != nil {
		return failed[struct{}](err)
	}
	if d < 0 {
		d = 0
	}
	if err := core.CheckTimer("timer", d); err != nil {
		return failed[struct{}](err)
	}
	f := ctx.engine().NewTimer(d)
	return Future[struct{}]{&futureState[struct{}]{w: f, get: func() (struct{}, error) {
		if _, fail := f.Result(); fail != nil {
			return struct{}{}, failureError(kindTimer, "timer", fail)
		}
		return struct{}{}, nil
	}}}
}

// Sleep blocks for d of orchestration time on a durable timer.
func Sleep(ctx Context, d time.Duration) error {
	_, err := NewTimer(ctx, d).Await(ctx)
	return err
}

// WaitEvent returns a Future of the next external event named name, raised
// by a client. Events that arrive before the wait are buffered in order.
// With timeout > 0 the Future fails with a *TimeoutError (matching
// ErrTimeout) if no event arrives in time; the event, if it comes later,
// stays buffered for the next wait.
func WaitEvent[T any](ctx Context, name string, timeout time.Duration) Future[T] {
	if err := ctx.Err(); err != nil {
		return failed[T](err)
	}
	if err := core.CheckTimer(fmt.Sprintf("timeout of event %q", name), timeout); err != nil {
		return failed[T](err)
	}
	c := ctx.engine()
	return fromEngine[T](c, c.WaitEvent(name, timeout), kindEvent, fmt.Sprintf("event %q", name))
}

// SideEffect runs fn once, records its result in history and returns the
// recorded value on every replay. Use it for non-deterministic values
// (random numbers, environment reads) that are cheap and safe to compute
// in the orchestrator; do I/O in activities. The value goes through the
// codec, so first run and replay see the same value.
func SideEffect[T any](ctx Context, fn func() (T, error)) (T, error) {
	c := ctx.engine()
	var zero T
	data, fail := c.SideEffect(func() ([]byte, error) {
		v, err := fn()
		if err != nil {
			return nil, err
		}
		return codec.Encode(c.Codec(), c.Limits(), "side effect value", v)
	})
	if fail != nil {
		return zero, failureError(kindSide, "side effect", fail)
	}
	return codec.Decode[T](c.Codec(), "side effect value", data)
}

// NewUUID returns a random-looking UUID that is the same on every replay.
func NewUUID(ctx Context) string { return ctx.engine().NewUUID() }

// GetVersion guards a change to orchestrator code under running instances.
// The rule is Temporal's, on both engines. What an instance gets the first
// time its code reaches a GetVersion for changeID depends on whether it
// reaches that point while replaying events it recorded before, or while
// handling a new event:
//
//   - replaying: DefaultVersion (0). The instance had passed this point
//     under the old code, so it takes the old branch and matches its
//     history;
//   - handling a new event — a new instance, or an old one that reaches
//     this point only now, under the new code: maxSupported, recorded in
//     history, so every later replay takes the same branch.
//
// So "started before the change" does not decide: an instance started
// under the old code that arrives at the GetVersion after the deploy takes
// the new branch. A change is safe when the new branch is right for an
// instance in the middle of its run, given only what the old code did
// before this point. For example, adding a fraud check between reserving
// and charging:
//
//	if _, err := orchestration.Call(ctx, Reserve, order).Await(ctx); err != nil {
//		return err
//	}
//	if orchestration.GetVersion(ctx, "fraud-check", orchestration.DefaultVersion, 1) == 1 {
//		if _, err := orchestration.Call(ctx, FraudCheck, order).Await(ctx); err != nil {
//			return err
//		}
//	}
//	_, err := orchestration.Call(ctx, Charge, order).Await(ctx)
//
// An instance that had charged before the deploy replays the GetVersion
// and gets 0: no fraud check, as its history says. One still waiting for
// Reserve when the deploy happens reaches the GetVersion live, gets 1 and
// runs the fraud check before Charge — correct, since the check needs only
// the reservation. Place the GetVersion at the point of the change.
// GetVersion takes no step number, so adding one does not shift the steps
// after it.
//
// A recorded version outside [minSupported, maxSupported] ends the
// orchestration with a *NondeterminismError; raise minSupported only once
// no running instance can replay the old branch.
func GetVersion(ctx Context, changeID string, minSupported, maxSupported int) int {
	return ctx.engine().GetVersion(changeID, minSupported, maxSupported)
}

// DefaultVersion is what GetVersion returns to code that ran before a
// change.
const DefaultVersion = core.DefaultVersion

// SetCustomStatus publishes v as the orchestration's custom status, which
// clients read with the status call. It is not part of history.
func SetCustomStatus[T any](ctx Context, v T) error {
	c := ctx.engine()
	data, err := codec.Encode(c.Codec(), c.Limits(), "custom status", v)
	if err != nil {
		return err
	}
	c.SetCustomStatus(data)
	return nil
}

// ContinueAsNew returns an error that, returned by the orchestrator, ends
// this run and starts the orchestration again with input in and a fresh
// history: the way to write eternal orchestrations with bounded history.
func ContinueAsNew[In any](ctx Context, in In, opts ...ContinueAsNewOption) error {
	var s continueSettings
	if err := option.Apply(&s, opts); err != nil {
		return fmt.Errorf("orchestration.ContinueAsNew: %w", err)
	}
	c := ctx.engine()
	data, err := codec.Encode(c.Codec(), c.Limits(), "continue-as-new input", in)
	if err != nil {
		return err
	}
	return &core.ContinueAsNewError{Input: data, KeepEvents: s.keepEvents}
}
