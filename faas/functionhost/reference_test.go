package functionhost_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/faas/functionhost"
	"github.com/cloudbutton/cloudbutton/internal/lambdatest"
)

// The tests of this file run one case on AWS's Runtime Interface Emulator
// (RIE, the reference) and on the host, with the same function, through
// the real AWS SDK client, and check that the two agree where RIE shows
// Lambda's behaviour.

// target is a Lambda endpoint serving one function.
type target struct {
	name, function string
	client         *lambda.Client
	logs           *syncBuffer // the function's output
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rieAndHost starts the bootstrap on RIE and on the host (as function fn).
func rieAndHost(t *testing.T, bootstrapPath string, fc functionhost.FunctionConfig) []target {
	t.Helper()
	rieLogs, hostLogs := &syncBuffer{}, &syncBuffer{}
	timeout := fc.Timeout
	if timeout == 0 {
		timeout = 3 * time.Second
	}
	rieURL := lambdatest.Start(t, bootstrapPath, lambdatest.Options{Timeout: timeout, Output: rieLogs})
	fc.Bootstrap = bootstrapPath
	_, hostURL := startHostWith(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"fn": fc}},
		functionhost.Options{LogOutput: hostLogs})
	return []target{
		{name: "rie", function: lambdatest.FunctionName, client: newClient(t, rieURL), logs: rieLogs},
		{name: "host", function: "fn", client: newClient(t, hostURL), logs: hostLogs},
	}
}

var requestIDField = regexp.MustCompile(`"requestId": "[0-9a-f-]{36}"`)

// TestErrorBodiesPassThrough: Lambda hands the caller the error body the
// runtime posted, byte for byte. Before, the host rewrote it: a
// Python-style body lost requestId and its string stackTrace became
// frames; a body with extra keys became a string inside errorMessage.
func TestErrorBodiesPassThrough(t *testing.T) {
	targets := rieAndHost(t, lambdatest.WriteCurlRuntime(t, t.TempDir()), functionhost.FunctionConfig{})
	for _, c := range []string{lambdatest.CaseError, lambdatest.CaseErrorExtraKeys} {
		var bodies []string
		for _, tg := range targets {
			out, err := tg.client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(tg.function), Payload: []byte(`{"case":"` + c + `"}`)})
			require.NoError(t, err, "%s %s", tg.name, c)
			if tg.name == "host" {
				assert.Equal(t, "Unhandled", aws.ToString(out.FunctionError), "Lambda flags a function error (RIE does not)")
				id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
				assert.Contains(t, string(out.Payload), `"requestId": "`+id+`"`, "the runtime saw the request id the caller got")
			}
			bodies = append(bodies, requestIDField.ReplaceAllString(string(out.Payload), `"requestId": "ID"`))
		}
		assert.Equal(t, bodies[0], bodies[1], "case %s: the host answers RIE's bytes", c)
		if c == lambdatest.CaseError {
			assert.Contains(t, bodies[1], `"stackTrace": ["  File`, "a string stack trace stays one")
		}
	}
}

// TestInitErrorAfterInitIsRefused: /runtime/init/error is refused with
// 403 once the runtime is initialized, as RIE does. Before, the host said
// 202 and failed the next, unrelated invocation with Runtime.InitError.Late.
func TestInitErrorAfterInitIsRefused(t *testing.T) {
	targets := rieAndHost(t, lambdatest.WriteCurlRuntime(t, t.TempDir()), functionhost.FunctionConfig{})
	for _, tg := range targets {
		out, err := tg.client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(tg.function), Payload: []byte(`{"case":"init-error"}`)})
		if err == nil { // the runtime exits after the refusal: a crash (RIE answers 502, an SDK error)
			assert.Contains(t, string(out.Payload), "Runtime.ExitError", tg.name)
		}
		require.Eventually(t, func() bool { return strings.Contains(tg.logs.String(), "/runtime/init/error after init answered 403") },
			30*time.Second, 10*time.Millisecond, "%s: %s", tg.name, tg.logs.String())
		assert.Contains(t, tg.logs.String(), "InvalidStateTransition", tg.name)

		out, err = tg.client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(tg.function), Payload: []byte(`{"case":"echo"}`)})
		require.NoError(t, err, tg.name)
		assert.Nil(t, out.FunctionError, "%s: the next invocation is not blamed: %s", tg.name, out.Payload)
		assert.Contains(t, string(out.Payload), `"payload":{"case":"echo"}`, tg.name)
	}
}

var xrayTrace = regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`)

// TestInvocationContext: the client context reaches the function (RIE and
// the host agree); the response's X-Amzn-RequestId is the request id the
// function saw; the trace id has X-Ray's form, or is the caller's.
func TestInvocationContext(t *testing.T) {
	targets := rieAndHost(t, lambdatest.BuildPlain(t), functionhost.FunctionConfig{})
	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"tenant":"t-42"},"env":{"locale":"fr"}}`))
	var seen []map[string]any
	for _, tg := range targets {
		out, err := tg.client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(tg.function),
			Payload: []byte(`{"case":"context"}`), ClientContext: aws.String(cc)})
		require.NoError(t, err, tg.name)
		var got struct { // what the plain function's context case returns
			RequestID          string `json:"requestId"`
			InvokedFunctionArn string `json:"invokedFunctionArn"`
			TraceID            string `json:"traceId"`
			ClientContext      any    `json:"clientContext"`
		}
		require.NoError(t, json.Unmarshal(out.Payload, &got), "%s: %s", tg.name, out.Payload)
		m, _ := got.ClientContext.(map[string]any)
		seen = append(seen, m)
		if tg.name == "host" {
			id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
			assert.Equal(t, got.RequestID, id, "X-Amzn-RequestId is the function's request id")
			assert.Regexp(t, xrayTrace, got.TraceID)
			assert.Equal(t, "arn:aws:lambda:us-east-1:000000000000:function:fn", got.InvokedFunctionArn)
		}
	}
	assert.Equal(t, seen[0], seen[1], "the same client context on RIE and on the host")
	assert.Equal(t, map[string]any{"tenant": "t-42"}, seen[1]["custom"])
}

// TestInvokeRefusesBadPayloads: Lambda's 400 InvalidRequestContentException
// for a payload that is not JSON and for a client context that is not
// base64 JSON. Before, the host passed a non-JSON payload on.
func TestInvokeRefusesBadPayloads(t *testing.T) {
	h, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"local": {InProcess: true}}})
	client := newClient(t, url)
	for _, tt := range []struct {
		name string
		in   *lambda.InvokeInput
		msg  string
	}{
		{"not JSON", &lambda.InvokeInput{Payload: []byte(`{"activity":`)}, "Could not parse request body into json"},
		{"text", &lambda.InvokeInput{Payload: []byte(`hello`)}, "Could not parse request body into json"},
		{"client context not base64", &lambda.InvokeInput{Payload: []byte(`{}`), ClientContext: aws.String("%%%")}, "Client context must be a valid Base64-encoded JSON object."},
		{"client context not JSON", &lambda.InvokeInput{Payload: []byte(`{}`), ClientContext: aws.String(base64.StdEncoding.EncodeToString([]byte("[1")))}, "Client context must be a valid Base64-encoded JSON object."},
		{"client context too long", &lambda.InvokeInput{Payload: []byte(`{}`), ClientContext: aws.String(strings.Repeat("A", 3584))}, "at most 3583 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.FunctionName = aws.String("local")
			_, err := client.Invoke(context.Background(), tt.in)
			var ae smithy.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, "InvalidRequestContentException", ae.ErrorCode())
			assert.Contains(t, ae.ErrorMessage(), tt.msg)
		})
	}
	st, _ := h.Stats("local")
	assert.Zero(t, st.Invocations, "nothing ran")
}

// TestInvokeBadInput: each bad Invoke gets Lambda's error code and
// leaves the host serving.
func TestInvokeBadInput(t *testing.T) {
	_, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"local": {InProcess: true}}})
	client := newClient(t, url)
	big := []byte(`"` + strings.Repeat("a", 6<<20) + `"`)
	for _, tt := range []struct {
		name, function string
		qualifier      string
		kind           types.InvocationType
		payload        []byte
		code, msg      string
	}{
		{"unknown function", "nope", "", "", []byte(`{}`), "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"},
		{"unknown qualifier", "local", "7", "", []byte(`{}`), "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:local:7"},
		{"dot-dot name", "../local", "", "", []byte(`{}`), "ResourceNotFoundException", "Function not found"},
		{"mismatched qualifiers", "local:1", "2", "", []byte(`{}`), "InvalidParameterValueException", "does not match the specified qualifier"},
		{"invocation type", "local", "", "Later", []byte(`{}`), "InvalidParameterValueException", `"Later"`},
		{"over 6 MB", "local", "", "", big, "RequestEntityTooLargeException", "Request must be smaller than 6291456 bytes"},
		{"not JSON", "local", "", types.InvocationTypeEvent, []byte(`{`), "InvalidRequestContentException", "Could not parse request body into json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := &lambda.InvokeInput{FunctionName: aws.String(tt.function), Payload: tt.payload, InvocationType: tt.kind}
			if tt.qualifier != "" {
				in.Qualifier = aws.String(tt.qualifier)
			}
			_, err := client.Invoke(context.Background(), in)
			var ae smithy.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.code, ae.ErrorCode())
			assert.Contains(t, ae.ErrorMessage(), tt.msg)
		})
	}
	out, err := client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("local"), Payload: envelopeOf(t, "greet", `"ada"`)})
	require.NoError(t, err)
	assert.Equal(t, `"hello, ada"`, string(out.Payload), "still serving")
}
