package awslambda_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/internal/lambdatest"
)

// countingTransport counts the requests that reach the endpoint.
type countingTransport struct {
	http.Transport
	n atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.Transport.RoundTrip(r)
}

// rieInvoker is the invoker, with the real SDK client, against RIE
// running bootstrap; its transport counts the invocations.
func rieInvoker(t *testing.T, bootstrap string, opts lambdatest.Options) (*awslambda.Invoker, *countingTransport) {
	t.Helper()
	url := lambdatest.Start(t, bootstrap, opts)
	tr := &countingTransport{}
	t.Cleanup(tr.CloseIdleConnections)
	client, err := awslambda.NewClient(context.Background(), awslambda.ClientConfig{
		Region: "us-east-1", Endpoint: url, AccessKeyID: "test", SecretAccessKey: "test", HTTPClient: &http.Client{Transport: tr},
	})
	require.NoError(t, err)
	inv, err := awslambda.New(client, awslambda.Options{DefaultFunction: lambdatest.FunctionName, Retry: awslambda.RetryOptions{BaseDelay: time.Millisecond}})
	require.NoError(t, err)
	return inv, tr
}

type rieCase struct {
	name     string
	timeout  bool   // run on the RIE whose function times out after 1s
	activity string // the function's case
	input    string
	kind     faas.Kind // "" for a result
	errType  string
	message  string // contained in the message
	stack    string // contained in the stack
	nonRetry bool
	check    func(t *testing.T, out []byte)
}

// rie is a function on RIE with a function timeout long enough for any
// machine, and the same with a 1s timeout for the timeout cases.
type rie struct {
	inv, short  *awslambda.Invoker
	tr, shortTr *countingTransport
}

func startRIE(t *testing.T, bootstrap string, opts lambdatest.Options) rie {
	t.Helper()
	var r rie
	opts.Timeout = time.Minute
	r.inv, r.tr = rieInvoker(t, bootstrap, opts)
	opts.Timeout = time.Second
	r.short, r.shortTr = rieInvoker(t, bootstrap, opts)
	return r
}

func runRIECases(t *testing.T, r rie, cases []rieCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			inv, tr := r.inv, r.tr
			if tt.timeout {
				inv, tr = r.short, r.shortTr
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			before := tr.n.Load()
			out, err := inv.Invoke(ctx, faas.Request{Activity: tt.activity, Input: []byte(tt.input), InstanceID: "i", TaskID: 1, Attempt: 1, IdempotencyKey: "i/1/1"})
			assert.Equal(t, int32(1), tr.n.Load()-before, "invocations: anything that may have run is not retried by the invoker")
			if tt.kind == "" {
				require.NoError(t, err)
				if tt.check != nil {
					tt.check(t, out)
				}
				return
			}
			require.Error(t, err, "result %q", out)
			var fe *faas.Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.kind, fe.Kind, "%v", fe)
			if tt.errType != "" {
				assert.Equal(t, tt.errType, fe.Type)
			}
			assert.Contains(t, fe.Message, tt.message)
			assert.Contains(t, fe.Stack, tt.stack)
			assert.Equal(t, tt.nonRetry, fe.NonRetryable, "non-retryable")
			assert.Equal(t, lambdatest.FunctionName, fe.Function)
		})
	}
}

// TestPlainFunctionOnRIE runs a foreign (plain aws-lambda-go) function's
// outcomes on AWS's emulator through the real SDK client.
func TestPlainFunctionOnRIE(t *testing.T) {
	runRIECases(t, startRIE(t, lambdatest.BuildPlain(t), lambdatest.Options{}), []rieCase{
		{name: "result", activity: lambdatest.CaseEcho, input: `{"a":1}`, check: func(t *testing.T, out []byte) {
			var env map[string]any
			require.NoError(t, json.Unmarshal(out, &env), "%s", out)
			assert.Equal(t, map[string]any{"a": 1.0}, env["input"], "the function echoed the envelope")
		}},
		{name: "error: its own type, retryable", activity: lambdatest.CaseError, input: `{"message":"no luck"}`,
			kind: faas.KindApplication, errType: "errorString", message: "no luck"},
		{name: "error whose message mentions a timeout is not one", activity: lambdatest.CaseError, input: `{"message":"upstream: Task timed out after 3.00 seconds","errorType":"UpstreamError"}`,
			kind: faas.KindApplication, errType: "UpstreamError", message: "Task timed out"},
		{name: "error type that looks like the marker but is not", activity: lambdatest.CaseError, input: `{"message":"m","errorType":":NonRetryable"}`,
			kind: faas.KindApplication, errType: ":NonRetryable", message: "m"},
		{name: "error type with our marker", activity: lambdatest.CaseError, input: `{"message":"m","errorType":"Invalid:NonRetryable"}`,
			kind: faas.KindApplication, errType: "Invalid", message: "m", nonRetry: true},
		{name: "panic: reported, then the process exits (RIE: 502)", activity: lambdatest.CasePanic, input: `{"message":"kaboom"}`,
			kind: faas.KindApplication, errType: "string", message: "kaboom", stack: "main.go"},
		{name: "exit mid-invocation (RIE: 502 Runtime.ExitError)", activity: lambdatest.CaseExit,
			kind: faas.KindCrash, errType: "Runtime.ExitError", message: "exit status 1"},
		{name: "function timeout (RIE: 200, plain text)", activity: lambdatest.CaseSleep, timeout: true,
			kind: faas.KindTimeout, message: "Task timed out after 1.00 seconds"},
		{name: "after all that, a result", activity: lambdatest.CaseEcho, input: `{"a":2}`},
	})
}

// TestCustomRuntimeOnRIE runs a bash/curl custom runtime's outcomes on
// AWS's emulator through the real SDK client.
func TestCustomRuntimeOnRIE(t *testing.T) {
	runRIECases(t, startRIE(t, lambdatest.WriteCurlRuntime(t, t.TempDir()), lambdatest.Options{}), []rieCase{
		{name: "result", activity: lambdatest.CaseEcho, input: `{"a":1}`, check: func(t *testing.T, out []byte) {
			var got struct {
				Payload map[string]any `json:"payload"`
			}
			require.NoError(t, json.Unmarshal(out, &got), "%s", out)
			assert.Equal(t, map[string]any{"a": 1.0}, got.Payload["input"])
		}},
		{name: "Python-style error", activity: lambdatest.CaseError,
			kind: faas.KindApplication, errType: "ValueError", message: "the error case", stack: "handler.py"},
		{name: "exit mid-invocation", activity: lambdatest.CaseExit,
			kind: faas.KindCrash, errType: "Runtime.ExitError"},
		{name: "init error after init, then exit", activity: lambdatest.CaseInitErrorLate,
			kind: faas.KindCrash, errType: "Runtime.ExitError"},
		{name: "function timeout", activity: lambdatest.CaseSleep, timeout: true,
			kind: faas.KindTimeout, message: "Task timed out after 1.00 seconds"},
		{name: "after all that, a result", activity: lambdatest.CaseEcho},
	})
}

// TestInitErrorOnRIE: a function whose init fails (RIE: 502 with the
// posted error) crashed; it is not retried by the invoker.
func TestInitErrorOnRIE(t *testing.T) {
	inv, tr := rieInvoker(t, lambdatest.WriteCurlRuntime(t, t.TempDir()), lambdatest.Options{Timeout: time.Minute, Env: map[string]string{lambdatest.InitEnv: lambdatest.InitEnvError}})
	runRIECases(t, rie{inv: inv, tr: tr}, []rieCase{
		{name: "init error", activity: lambdatest.CaseEcho,
			kind: faas.KindCrash, errType: "Runtime.LambdatestInitError", message: "init failed on purpose"},
	})
}
