package temporal

import (
	"errors"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	sdktemporal "go.temporal.io/sdk/temporal"

	"github.com/cloudbutton/cloudbutton/internal/core"
)

// applicationError turns a recorded failure into the Temporal error that
// carries it: its Type becomes the application error type; its stack and
// origin (the activity or child it came from) the error's details, in
// that order (failureDetails).
func applicationError(f *core.Failure, nonRetryable bool) error {
	var details []any
	switch {
	case f.Activity != "" || f.SubOrchestration != "":
		details = []any{f.Stack, f.Activity, f.SubOrchestration}
	case f.Stack != "":
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
		// Whether a timeout is retried is the retry policy's decision.
		return &core.Failure{Type: core.FailureTimeout, Message: timeoutMessage(timeout)}
	}
	var panicErr *sdktemporal.PanicError
	if errors.As(err, &panicErr) {
		return &core.Failure{Type: core.FailurePanic, Message: panicErr.Error(), Stack: panicErr.StackTrace(), NonRetryable: true}
	}
	var app *sdktemporal.ApplicationError
	if errors.As(err, &app) {
		if f := panicPolicyFailure(app); f != nil {
			return f
		}
		f := &core.Failure{Type: app.Type(), Message: app.Message(), NonRetryable: app.NonRetryable()}
		if f.Type == "" {
			f.Type = core.FailureError
		}
		if app.HasDetails() {
			var d failureDetails
			if app.Details(&d.stack, &d.activity, &d.sub) != nil {
				// A local error's details refuse more pointers than values.
				d = failureDetails{}
				_ = app.Details(&d.stack)
			}
			d.set(f)
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

// activityCall is what a future of an activity knows about its call: the
// name and the options that bound its attempts, so that its timeouts read
// as the rules of internal/core state them.
type activityCall struct {
	name string
	opts core.ActivityOptions // StartToClose is the effective one
}

func (rt *runtime) activityCall(name string, o core.ActivityOptions) *activityCall {
	if o.StartToClose <= 0 {
		o.StartToClose = rt.defaultStartToClose()
	}
	return &activityCall{name: name, opts: o}
}

// failure maps the error of the activity's future; a nil call maps it
// as failureFromError does.
func (a *activityCall) failure(err error) *core.Failure {
	if a == nil || err == nil {
		return failureFromError(err)
	}
	var timeout *sdktemporal.TimeoutError
	if !errors.As(err, &timeout) {
		return failureFromError(err)
	}
	// Temporal closes an activity with a timeout only once the retry
	// policy gave up: after its last attempt.
	attempt := 1
	if p := a.opts.Retry; p != nil && p.MaxAttempts > 1 {
		attempt = p.MaxAttempts
		var ae *sdktemporal.ActivityError
		if errors.As(err, &ae) && ae.RetryState() != enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED {
			attempt = 0 // unknown
		}
	}
	switch timeout.TimeoutType() {
	case enumspb.TIMEOUT_TYPE_START_TO_CLOSE:
		if attempt > 0 {
			return core.StartToCloseTimeout(a.name, attempt, a.opts.StartToClose)
		}
	case enumspb.TIMEOUT_TYPE_HEARTBEAT:
		if attempt > 0 {
			return core.HeartbeatTimeout(a.name, attempt, a.opts.HeartbeatTimeout)
		}
	}
	f := failureFromError(err)
	f.Message = fmt.Sprintf("activity %q: %s", a.name, f.Message)
	return f
}

// panicPolicyMessage is the message of the failure the SDK closes a
// workflow with when its code panicked or diverged from history
// (FailWorkflow panic policy); the cause says what happened.
const panicPolicyMessage = "Workflow failed on panic due to FailWorkflow workflow panic policy"

// nondeterminismCode is the stable code of the SDK's nondeterminism
// errors.
const nondeterminismCode = "TMPRL1100"

// panicPolicyFailure returns the failure that the SDK's panic-policy
// error app wraps (a nondeterminism error or a panic), or nil when app is
// not that wrapper.
func panicPolicyFailure(app *sdktemporal.ApplicationError) *core.Failure {
	if app.Message() != panicPolicyMessage {
		return nil
	}
	cause := errors.Unwrap(app)
	if cause == nil {
		return nil
	}
	return causeFailure(cause.Error(), "")
}

// causeFailure classifies the cause of a panic-policy failure.
func causeFailure(msg, stack string) *core.Failure {
	typ := core.FailurePanic
	if strings.Contains(msg, nondeterminismCode) {
		typ = core.FailureNondeterminism
	}
	return &core.Failure{Type: typ, Message: msg, Stack: stack, NonRetryable: true}
}

// failureFromProto reads a failure recorded in a Temporal history event.
func failureFromProto(p *failurepb.Failure) *core.Failure {
	if p == nil {
		return nil
	}
	if p.GetMessage() == panicPolicyMessage && p.GetCause() != nil {
		// The SDK's wrapper: what happened is in the cause chain.
		c := p.GetCause()
		for n := c; n != nil; n = n.GetCause() {
			if strings.Contains(n.GetMessage(), nondeterminismCode) {
				c = n
				break
			}
		}
		return causeFailure(c.GetMessage(), c.GetStackTrace())
	}
	f := &core.Failure{Type: core.FailureError, Message: p.GetMessage(), Stack: p.GetStackTrace()}
	switch info := p.GetFailureInfo().(type) {
	case *failurepb.Failure_ApplicationFailureInfo:
		if t := info.ApplicationFailureInfo.GetType(); t != "" {
			f.Type = t
		}
		f.NonRetryable = info.ApplicationFailureInfo.GetNonRetryable()
		var d failureDetails
		into := []*string{&d.stack, &d.activity, &d.sub}
		for i, p := range info.ApplicationFailureInfo.GetDetails().GetPayloads() {
			if i == len(into) || (rawJSONConverter{}).FromPayload(p, into[i]) != nil {
				break
			}
		}
		d.set(f)
	case *failurepb.Failure_TimeoutFailureInfo:
		f.Type = core.FailureTimeout
	case *failurepb.Failure_CanceledFailureInfo:
		f.Type = core.FailureCanceled
	case *failurepb.Failure_TerminatedFailureInfo:
		f.Type = core.FailureCanceled
	}
	return f
}

// failureDetails are the details of an application error that
// applicationError wrote.
type failureDetails struct{ stack, activity, sub string }

func (d failureDetails) set(f *core.Failure) {
	if f.Stack == "" {
		f.Stack = d.stack
	}
	f.Activity, f.SubOrchestration = d.activity, d.sub
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
