package awslambda

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// timeoutText is the whole body of a function timeout on AWS's Runtime
// Interface Emulator: status 200, no X-Amz-Function-Error, and this plain
// text (AWS itself sends a Sandbox.Timedout error). It is not JSON, so no
// result of a function is mistaken for it.
var timeoutText = regexp.MustCompile(`^Task timed out after [0-9]+(\.[0-9]+)? seconds$`)

// timeoutBody returns the timeout failure when body is the emulator's
// timeout text.
func timeoutBody(function string, body []byte) (*faas.Error, bool) {
	if !timeoutText.Match(body) {
		return nil, false
	}
	return &faas.Error{Kind: faas.KindTimeout, Type: lambdawire.TypeTimeout, Message: string(body), Function: function}, true
}

// functionErrorBody reads the body of a response known to be a function
// error (X-Amz-Function-Error): Lambda's keys, whatever else the
// function's runtime adds (Java's "cause", say). ok is false for a body
// without errorType and errorMessage.
func functionErrorBody(body []byte) (lambdawire.ErrorResponse, bool) {
	if er, ok := lambdawire.ParseErrorBody(body); ok {
		return er, true
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return lambdawire.ErrorResponse{}, false
	}
	known := map[string]json.RawMessage{}
	for _, k := range []string{"errorType", "errorMessage", "stackTrace"} {
		if v, ok := raw[k]; ok {
			known[k] = v
		}
	}
	b, err := json.Marshal(known)
	if err != nil {
		return lambdawire.ErrorResponse{}, false
	}
	return lambdawire.ParseErrorBody(b)
}

// decodeFailure is a result the invoker cannot decode.
func decodeFailure(function string, err error) *faas.Error {
	return &faas.Error{Kind: faas.KindApplication, Type: core.FailureDecode, Message: err.Error(), NonRetryable: true, Function: function}
}

// errorBody keeps the body of one call's error response, which the SDK's
// deserializer reads and drops: a function error may be in it (see
// classify).
type errorBody struct{ b []byte }

// maxErrorBody bounds what errorBody keeps: a function error is at most
// a response payload.
const maxErrorBody = lambdawire.MaxSyncPayload + 64<<10

// capture is a per-call option that adds the middleware keeping the body.
func (e *errorBody) capture(o *lambda.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		// After the operation's deserializer, so it sees the raw response
		// first.
		return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("cloudbutton.ErrorBody", e.handle), middleware.After)
	})
}

func (e *errorBody) handle(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if err != nil || !ok || resp.StatusCode < 300 || resp.Body == nil {
		return out, md, err
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	if rerr == nil {
		e.b = b
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return out, md, err
}
