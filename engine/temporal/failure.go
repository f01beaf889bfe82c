package temporal

import (
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	sdktemporal "go.temporal.io/sdk/temporal"

	"github.com/cloudbutton/cloudbutton/internal/core"
)

// applicationError turns a recorded failure into the Temporal error that
// carries it: its Type becomes the application error type, its stack the
// error's details.
func applicationError(f *core.Failure, nonRetryable bool) error {
	var details []any
	if f.Stack != "" {
		details = []any{f.Stack}
	}
	return sdktemporal.NewApplicationErrorWithOptions(f.Message, f.Type, sdktemporal.ApplicationErrorOptions{
		NonRetryable: nonRetryable || f.NonRetryable,
		Details:      details,
	})
}

// canceledFailure is what a future canceled by terminate resolves to; the
// orchestration API turns it into orchestration.ErrCanceled.
func canceledFailure() *core.Failure {
	return &core.Failure{Type: core.FailureCanceled, Message: core.ErrCanceled.Error(), NonRetryable: true}
}

// failureFromError maps an error returned by a Temporal future (activity,
// child workflow, timer) back to the engine-neutral failure.
func failureFromError(err error) *core.Failure {
	if err == nil {
		return nil
	}
	var canceled *sdktemporal.CanceledError
	if errors.As(err, &canceled) {
		return canceledFailure()
	}
	var terminated *sdktemporal.TerminatedError
	if errors.As(err, &terminated) {
		return canceledFailure()
	}
	var timeout *sdktemporal.TimeoutError
	if errors.As(err, &timeout) {
		return &core.Failure{Type: core.FailureTimeout, Message: timeoutMessage(timeout), NonRetryable: true}
	}
	var panicErr *sdktemporal.PanicError
	if errors.As(err, &panicErr) {
		return &core.Failure{Type: core.FailurePanic, Message: panicErr.Error(), Stack: panicErr.StackTrace(), NonRetryable: true}
	}
	var app *sdktemporal.ApplicationError
	if errors.As(err, &app) {
		f := &core.Failure{Type: app.Type(), Message: app.Message(), NonRetryable: app.NonRetryable()}
		if f.Type == "" {
			f.Type = core.FailureError
		}
		if app.HasDetails() {
			var stack string
			if app.Details(&stack) == nil {
				f.Stack = stack
			}
		}
		return f
	}
	return &core.Failure{Type: core.FailureError, Message: err.Error()}
}

func timeoutMessage(t *sdktemporal.TimeoutError) string {
	switch t.TimeoutType() {
	case enumspb.TIMEOUT_TYPE_START_TO_CLOSE:
		return "attempt exceeded its start-to-close timeout"
	case enumspb.TIMEOUT_TYPE_HEARTBEAT:
		return "attempt stopped heartbeating past its heartbeat timeout"
	case enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START:
		return "no worker picked the task up before its schedule-to-start timeout"
	case enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE:
		return "exceeded its schedule-to-close timeout"
	}
	return t.Error()
}

// failureFromProto reads a failure recorded in a Temporal history event.
func failureFromProto(p *failurepb.Failure) *core.Failure {
	if p == nil {
		return nil
	}
	f := &core.Failure{Type: core.FailureError, Message: p.GetMessage(), Stack: p.GetStackTrace()}
	switch info := p.GetFailureInfo().(type) {
	case *failurepb.Failure_ApplicationFailureInfo:
		if t := info.ApplicationFailureInfo.GetType(); t != "" {
			f.Type = t
		}
		f.NonRetryable = info.ApplicationFailureInfo.GetNonRetryable()
		if f.Stack == "" {
			if ps := info.ApplicationFailureInfo.GetDetails().GetPayloads(); len(ps) > 0 {
				var stack string
				if rawJSONConverter.FromPayload(rawJSONConverter{}, ps[0], &stack) == nil {
					f.Stack = stack
				}
			}
		}
	case *failurepb.Failure_TimeoutFailureInfo:
		f.Type = core.FailureTimeout
	case *failurepb.Failure_CanceledFailureInfo:
		f.Type = core.FailureCanceled
	case *failurepb.Failure_TerminatedFailureInfo:
		f.Type = core.FailureCanceled
	}
	return f
}

// panicFailure records a panic recovered in orchestrator code. Our own
// nondeterminism errors (raised by GetVersion) keep their type.
func panicFailure(r any, stack []byte) *core.Failure {
	if fe, ok := r.(core.Failer); ok {
		return fe.Failure()
	}
	f := core.PanicFailure(r, stack)
	f.Message = fmt.Sprintf("orchestrator panicked: %s", f.Message)
	f.NonRetryable = true
	return f
}
