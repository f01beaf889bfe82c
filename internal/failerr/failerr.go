// Package failerr is the one mapping between errors and their recorded
// form (core.Failure), both ways, for everything that records or returns
// one: activities, invokers and orchestrators on every engine, the futures
// of orchestrator code, the client's results and waits, and the test
// harness.
package failerr

import (
	"errors"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// The sentinels, defined here so that the orchestration package and the
// client share them.
var (
	ErrTimeout       = errors.New("orchestration: timeout")
	ErrNotRegistered = errors.New("orchestration: not registered")
	ErrPanic         = errors.New("orchestration: panic")
)

// From returns the recorded form of err. The error nearest the top of
// err's tree that describes a failure gives its type: an *activity.Error,
// a *faas.Error, the recorded form carried by an
// *orchestration.ActivityError or *SubOrchestrationError, or an engine
// error that knows its own (core.Failer). Otherwise a timeout (ErrTimeout)
// has type Timeout and anything else type Error. An err that wraps the
// describing error keeps its own message (core.Described).
func From(err error) *core.Failure {
	if err == nil {
		return nil
	}
	if d, f := find(err); f != nil {
		return core.Described(err, d, f)
	}
	if errors.Is(err, ErrTimeout) {
		return &core.Failure{Type: core.FailureTimeout, Message: err.Error(), NonRetryable: true}
	}
	return &core.Failure{Type: core.FailureError, Message: err.Error()}
}

// find walks err's tree, depth first as errors.As does, for the first
// error that describes a failure.
func find(err error) (error, *core.Failure) {
	for err != nil {
		if f := describe(err); f != nil {
			return err, f
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if d, f := find(e); f != nil {
					return d, f
				}
			}
			return nil, nil
		default:
			return nil, nil
		}
	}
	return nil, nil
}

// describe returns the failure that err itself describes, or nil.
func describe(err error) *core.Failure {
	switch e := err.(type) {
	case core.Failer:
		return e.Failure()
	case *activity.Error:
		typ := e.Type
		if typ == "" {
			typ = core.FailureError
		}
		return &core.Failure{Type: typ, Message: e.Message, Stack: e.Stack, NonRetryable: e.NonRetryable}
	case *faas.Error:
		return invocationFailure(e)
	}
	return nil
}

// invocationFailure records a failed invocation: an application error
// keeps its activity's type; the platform's failures get theirs.
func invocationFailure(e *faas.Error) *core.Failure {
	f := &core.Failure{Type: e.Type, Message: e.Message, Stack: e.Stack, NonRetryable: e.NonRetryable}
	switch e.Kind {
	case faas.KindTimeout:
		f.Type = core.FailureTimeout
	case faas.KindThrottled:
		f.Type = core.FailureThrottled
	case faas.KindNotFound:
		f.Type, f.NonRetryable = core.FailureActivityNotFound, true
	case faas.KindPayloadTooLarge:
		f.Type, f.NonRetryable = core.FailurePayloadTooLarge, true
	case faas.KindCrash:
		f.Type = core.FailureCrash
	}
	if f.Type == "" {
		f.Type = core.FailureError
	}
	return f
}

// Unwrap is what the error of a call that failed with f unwraps to: f
// itself, so that an orchestration failing with the error records where
// it came from (f.Activity or f.SubOrchestration), then Chain.
func Unwrap(f *core.Failure) []error {
	return append([]error{recorded{f}}, Chain(f.Type, f.Message, f.Stack, f.NonRetryable)...)
}

// recorded carries a failure inside an error's tree.
type recorded struct{ f *core.Failure }

func (r recorded) Error() string          { return r.f.Error() }
func (r recorded) Failure() *core.Failure { return r.f }

// Chain returns what an error carrying failure (typ, msg, stack) unwraps
// to: the *activity.Error of that type, and the sentinel that matches it
// (ErrTimeout, core.ErrCanceled, ErrNotRegistered, ErrPanic), if any.
func Chain(typ, msg, stack string, nonRetryable bool) []error {
	errs := []error{&activity.Error{Type: typ, Message: msg, Stack: stack, NonRetryable: nonRetryable}}
	switch typ {
	case core.FailureTimeout:
		errs = append(errs, ErrTimeout)
	case core.FailureCanceled:
		errs = append(errs, core.ErrCanceled)
	case core.FailureActivityNotFound, core.FailureOrchestratorNotFound:
		errs = append(errs, ErrNotRegistered)
	case core.FailurePanic:
		errs = append(errs, ErrPanic)
	}
	return errs
}
