// Command plainfunc is a plain aws-lambda-go function for tests of Lambda
// hosts and invokers (see internal/lambdatest, which builds it with
// BuildPlain). It knows nothing of CloudButton's envelope beyond reading
// its case from it, so that it behaves as any foreign Go function would.
//
// The payload selects the case: {"case":"echo"}, or the invoker's envelope
// {"activity":"echo","input":{...}} with the parameters in input:
//
//	echo     return the payload unchanged
//	error    return an error: {"message":"...","errorType":"..."} (errorType
//	         default: aws-lambda-go's, "errorString")
//	panic    panic with message (aws-lambda-go reports it, then exits)
//	sleep    sleep sleepMs milliseconds, ignoring the deadline (default one
//	         hour: past any function timeout), then return {"slept":ms}
//	exit     print a line, then os.Exit(exitCode) (default 1) mid-invocation
//	context  return (and print) the invocation's context: request id,
//	         deadline, invoked ARN, trace id, client context, and the
//	         function's AWS_LAMBDA_* environment
//
// An unknown case is an error of type "UnknownCase".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type params struct {
	Message   string `json:"message"`
	ErrorType string `json:"errorType"`
	SleepMs   int64  `json:"sleepMs"`
	ExitCode  *int   `json:"exitCode"`
}

type request struct {
	Case     string  `json:"case"`
	Activity string  `json:"activity"`
	Input    *params `json:"input"`
	params
}

// Context is what the context case returns.
type Context struct {
	RequestID          string            `json:"requestId"`
	DeadlineUnixMs     int64             `json:"deadlineUnixMs"`
	InvokedFunctionArn string            `json:"invokedFunctionArn"`
	TraceID            string            `json:"traceId"`
	ClientContext      any               `json:"clientContext,omitempty"`
	Env                map[string]string `json:"env"`
}

func handle(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
	var req request
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, fmt.Errorf("plainfunc: payload is not a JSON object: %w", err)
	}
	c, p := req.Case, req.params
	if c == "" {
		c = req.Activity
		if req.Input != nil {
			p = *req.Input
		}
	}
	switch c {
	case "echo":
		return payload, nil
	case "error":
		msg := p.Message
		if msg == "" {
			msg = "plainfunc: the error case"
		}
		if p.ErrorType != "" {
			return nil, messages.InvokeResponse_Error{Type: p.ErrorType, Message: msg}
		}
		return nil, errors.New(msg)
	case "panic":
		msg := p.Message
		if msg == "" {
			msg = "plainfunc: the panic case"
		}
		panic(msg)
	case "sleep":
		d := time.Duration(p.SleepMs) * time.Millisecond
		if d <= 0 {
			d = time.Hour
		}
		time.Sleep(d)
		return json.Marshal(map[string]int64{"slept": d.Milliseconds()})
	case "exit":
		code := 1
		if p.ExitCode != nil {
			code = *p.ExitCode
		}
		fmt.Printf("plainfunc: exiting with status %d mid-invocation\n", code)
		os.Exit(code)
		return nil, nil
	case "context":
		out := Context{Env: map[string]string{}}
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			out.RequestID, out.InvokedFunctionArn = lc.AwsRequestID, lc.InvokedFunctionArn
			if lc.ClientContext.Client.InstallationID != "" || len(lc.ClientContext.Custom) > 0 || len(lc.ClientContext.Env) > 0 {
				out.ClientContext = lc.ClientContext
			}
		}
		if dl, ok := ctx.Deadline(); ok {
			out.DeadlineUnixMs = dl.UnixMilli()
		}
		out.TraceID, _ = ctx.Value("x-amzn-trace-id").(string)
		for _, kv := range os.Environ() {
			if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_LAMBDA_") {
				out.Env[k] = v
			}
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, err
		}
		fmt.Printf("plainfunc: context %s\n", b)
		return b, nil
	default:
		return nil, messages.InvokeResponse_Error{Type: "UnknownCase", Message: fmt.Sprintf("plainfunc: unknown case %q", c)}
	}
}

func main() { lambda.Start(handle) }
