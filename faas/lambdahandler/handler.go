// Package lambdahandler turns a set of activities into an AWS Lambda
// handler (github.com/aws/aws-lambda-go), so one Lambda function hosts many
// activities:
//
//	func main() {
//		lambdahandler.Start(CountWords, SplitInput)
//	}
//
// Built with `GOOS=linux CGO_ENABLED=0 go build -tags lambda.norpc -o
// bootstrap`, the binary runs unchanged on the provided.al2023 runtime and
// on the local function host (faas/functionhost).
//
// # Payload
//
// The handler reads the invocation envelope the faas invokers send
// ({"activity","input","instanceId","taskId","attempt","idempotencyKey"}),
// runs the named activity with activity.Info in its context and the
// invocation's deadline, and returns the encoded result.
//
// # Errors
//
// Errors are returned in Lambda's shape {"errorType","errorMessage",
// "stackTrace"}: errorType is the activity.Error type ("Error" for a plain
// error, "Panic" for a recovered panic, with the stack as stackTrace), with
// ":NonRetryable" appended when the error is non-retryable. An unknown
// activity is "ActivityNotFound:NonRetryable"; a payload that is not an
// envelope is "DecodeError:NonRetryable". The faas invokers rebuild a
// *faas.Error from this shape.
//
// # Trace context
//
// The W3C trace context that faas/awslambda sends in the invocation's
// client context (custom "traceparent" and "tracestate") becomes the
// remote parent span of the handler's ctx, unless the ctx has a span
// already (another instrumentation's): a span the activity starts is a
// child of its attempt's span in the worker.
//
// # Heartbeats
//
// Heartbeats are not delivered from Lambda: activity.Heartbeat is a no-op
// inside the handler.
package lambdahandler

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
	"github.com/cloudbutton/cloudbutton/internal/activityctx"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
)

// Options configures a Handler. The zero value is usable.
type Options struct {
	// Codec decodes inputs and encodes results (default codec.JSON); it
	// must match the worker's codec.
	Codec codec.Codec
	// Limits bounds the encoded result (default: Lambda's 6 MB
	// synchronous response limit).
	Limits codec.Limits
	// DefaultActivity, when set, runs for payloads that are not an
	// envelope: the whole payload is then the activity's input. This lets
	// `aws lambda invoke --payload '{...}'` call the activity directly.
	DefaultActivity string
}

// Handler dispatches Lambda invocations to activities by name. It
// implements lambda.Handler and is safe for concurrent use.
type Handler struct {
	acts map[string]activity.Definition
	opts Options
}

var _ lambda.Handler = (*Handler)(nil)

// New returns a handler for activities. It fails on a nil or duplicate
// definition, or a DefaultActivity that is not among them.
func New(activities []activity.Definition, opts Options) (*Handler, error) {
	if opts.Codec == nil {
		opts.Codec = codec.JSON
	}
	if opts.Limits.MaxPayload <= 0 {
		opts.Limits.MaxPayload = lambdawire.MaxSyncPayload
	}
	acts := make(map[string]activity.Definition, len(activities))
	for i, d := range activities {
		if d == nil {
			return nil, fmt.Errorf("lambdahandler: activity %d of %d is nil", i+1, len(activities))
		}
		if _, dup := acts[d.Name()]; dup {
			return nil, fmt.Errorf("lambdahandler: activity %q registered twice", d.Name())
		}
		acts[d.Name()] = d
	}
	if opts.DefaultActivity != "" {
		if _, ok := acts[opts.DefaultActivity]; !ok {
			return nil, fmt.Errorf("lambdahandler: DefaultActivity %q is not among the activities", opts.DefaultActivity)
		}
	}
	return &Handler{acts: acts, opts: opts}, nil
}

// Start runs activities as this process's Lambda function; it never
// returns. It panics on invalid registrations (a programming error).
func Start(activities ...activity.Definition) {
	h, err := New(activities, Options{})
	if err != nil {
		panic(err)
	}
	lambda.Start(h)
}

// Invoke handles one invocation payload. Errors are returned as
// messages.InvokeResponse_Error values, which aws-lambda-go sends as is.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	env, input, err := lambdawire.DecodeEnvelope(payload)
	if errors.Is(err, lambdawire.ErrNotEnvelope) && h.opts.DefaultActivity != "" {
		env, input, err = lambdawire.Envelope{Activity: h.opts.DefaultActivity}, payload, nil
	}
	if err != nil {
		return nil, lambdaError(&core.Failure{Type: lambdawire.TypeBadEnvelope, Message: err.Error(), NonRetryable: true})
	}
	def, ok := h.acts[env.Activity]
	if !ok {
		return nil, lambdaError(&core.Failure{Type: lambdawire.TypeActivityNotFound, NonRetryable: true,
			Message: fmt.Sprintf("activity %q is not registered in this function (it has %d activities)", env.Activity, len(h.acts))})
	}
	key := env.IdempotencyKey
	if key == "" && env.InstanceID != "" {
		key = activityctx.IdempotencyKey(env.InstanceID, env.RunID, env.TaskID, env.Attempt)
	}
	ctx = lambdawire.WithTraceContext(ctx) // the attempt's span, if the invoker sent it
	ctx = activityctx.WithInfo(ctx, activityctx.Info{
		ActivityName: env.Activity, InstanceID: env.InstanceID, RunID: env.RunID, TaskID: env.TaskID,
		Attempt: env.Attempt, IdempotencyKey: key,
	})
	out, err := def.Execute(ctx, h.opts.Codec, h.opts.Limits, input)
	if err != nil {
		return nil, lambdaError(failerr.From(err))
	}
	return lambdawire.EncodeResult(out), nil
}

func lambdaError(f *core.Failure) error {
	e := lambdawire.FromFailure(f)
	r := messages.InvokeResponse_Error{Type: e.Type, Message: e.Message}
	for _, fr := range e.StackTrace {
		r.StackTrace = append(r.StackTrace, &messages.InvokeResponse_Error_StackFrame{Path: fr.Path, Line: fr.Line, Label: fr.Label})
	}
	return r
}
