// Package failerr maps a recorded failure to the errors user code matches,
// once for everything that returns one: the futures of orchestrator code,
// the client's results and waits on every engine, and the test harness.
package failerr

import (
	"errors"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// The sentinels, defined here so that the orchestration package and the
// client share them.
var (
	ErrTimeout       = errors.New("orchestration: timeout")
	ErrNotRegistered = errors.New("orchestration: not registered")
	ErrPanic         = errors.New("orchestration: panic")
)

// Chain returns what an error carrying failure (typ, msg, stack) unwraps
// to: the *activity.Error of that type, and the sentinel that matches it
// (ErrTimeout, core.ErrCanceled, ErrNotRegistered, ErrPanic), if any.
func Chain(typ, msg, stack string, nonRetryable bool) []error {
	errs := []error{activity.FromFailure(typ, msg, stack, nonRetryable)}
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
