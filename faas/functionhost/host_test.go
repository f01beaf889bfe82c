package functionhost_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
	"github.com/cloudbutton/cloudbutton/samples/lambdafunc/activities"
)

func req(act string, input string) faas.Request {
	return faas.Request{Activity: act, Input: []byte(input), InstanceID: "i-1", TaskID: 1, Attempt: 1, IdempotencyKey: "i-1/1/1"}
}

// TestInvokeOutcomes runs the same cases against an in-process function and
// a bootstrap function, through the real AWS SDK client.
func TestInvokeOutcomes(t *testing.T) {
	cfg := &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"local":   {InProcess: true, Timeout: 300 * time.Millisecond},
		"samples": {Bootstrap: bootstrap(t), Timeout: 300 * time.Millisecond, Concurrency: 4},
	}}
	h, url := startHost(t, cfg)
	for _, function := range []string{"local", "samples"} {
		inv := newInvoker(t, url, awslambda.Options{DefaultFunction: function, Retry: awslambda.RetryOptions{MaxTries: 1}})
		tests := []struct {
			name     string
			req      faas.Request
			want     string
			kind     faas.Kind
			errType  string
			nonRetry bool
			msg      string
		}{
			{name: "success", req: req("greet", `"ada"`), want: `"hello, ada"`},
			{name: "activity info", req: req("runtime-info", `{}`), want: `"idempotencyKey":"i-1/1/1"`},
			{name: "application error", req: req("fail", `{"type":"InsufficientFunds","message":"balance 3 < 5"}`),
				kind: faas.KindApplication, errType: "InsufficientFunds", msg: "balance 3 < 5"},
			{name: "non-retryable application error", req: req("greet", `""`),
				kind: faas.KindApplication, errType: "EmptyName", nonRetry: true, msg: "greet needs a name"},
			{name: "panic", req: req("panic", `"at the disco"`), kind: faas.KindApplication, errType: "Panic", msg: "sample panic: at the disco"},
			{name: "timeout", req: req("sleep", `1000`), kind: faas.KindTimeout, msg: "Task timed out after 0.30 seconds"},
			{name: "unknown activity", req: req("nope", `{}`), kind: faas.KindNotFound, errType: "ActivityNotFound", nonRetry: true, msg: `"nope"`},
			{name: "undecodable input", req: req("greet", `{"x":1}`), kind: faas.KindApplication, errType: "DecodeError", nonRetry: true, msg: "does not decode"},
		}
		for _, tt := range tests {
			t.Run(function+"/"+tt.name, func(t *testing.T) {
				out, err := inv.Invoke(context.Background(), tt.req)
				if tt.kind == "" {
					require.NoError(t, err)
					assert.Contains(t, string(out), tt.want)
					return
				}
				var fe *faas.Error
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, tt.kind, fe.Kind, "%+v", fe)
				if tt.errType != "" {
					assert.Equal(t, tt.errType, fe.Type)
				}
				assert.Equal(t, tt.nonRetry, fe.NonRetryable)
				assert.Contains(t, fe.Message, tt.msg)
				assert.Equal(t, function, fe.Function)
				if tt.errType == "Panic" {
					assert.Contains(t, fe.Stack, "panicWith", "the panic's stack survives the trip")
				}
			})
		}
	}
	st, _ := h.Stats("samples")
	assert.Equal(t, int64(1), st.Timeouts)
	assert.GreaterOrEqual(t, st.ColdStarts, int64(2), "the timed-out process was killed and replaced")
}

func TestUnknownFunctionAndOversizedPayload(t *testing.T) {
	_, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"local": {InProcess: true}}})
	inv := newInvoker(t, url, awslambda.Options{Prefix: "missing-"})

	_, err := inv.Invoke(context.Background(), req("greet", `"x"`))
	var fe *faas.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, faas.KindNotFound, fe.Kind)
	assert.Equal(t, "ResourceNotFoundException", fe.Type)
	assert.Contains(t, fe.Message, "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing-greet")
	assert.True(t, fe.NonRetryable)

	// The invoker refuses an oversized payload before sending it.
	big := `"` + strings.Repeat("a", awslambda.MaxPayload) + `"`
	_, err = newInvoker(t, url, awslambda.Options{DefaultFunction: "local"}).Invoke(context.Background(), req("greet", big))
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, faas.KindPayloadTooLarge, fe.Kind)
	assert.Contains(t, fe.Message, "over the Lambda synchronous invocation limit of 6291456 bytes")

	// The host refuses it too, as Lambda does, when a client sends it anyway.
	_, err = newClient(t, url).Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("local"), Payload: []byte(big)})
	var ae smithy.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "RequestEntityTooLargeException", ae.ErrorCode())
}

func TestInvokeAPIHeadersAndColdThenWarm(t *testing.T) {
	h, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"samples": {Bootstrap: bootstrap(t), MemoryMB: 256, Timeout: 5 * time.Second},
	}})
	client := newClient(t, url)
	invoke := func(act, input string) (*lambda.InvokeOutput, string) {
		t.Helper()
		payload, err := json.Marshal(map[string]any{"activity": act, "input": json.RawMessage(input)})
		require.NoError(t, err)
		out, err := client.Invoke(context.Background(), &lambda.InvokeInput{
			FunctionName: aws.String("arn:aws:lambda:us-east-1:000000000000:function:samples:$LATEST"), Payload: payload, LogType: types.LogTypeTail,
		})
		require.NoError(t, err)
		require.NotNil(t, out.LogResult)
		logs, err := base64.StdEncoding.DecodeString(*out.LogResult)
		require.NoError(t, err)
		assert.Equal(t, "$LATEST", aws.ToString(out.ExecutedVersion))
		return out, string(logs)
	}

	out, logs := invoke("runtime-info", `{}`)
	assert.Nil(t, out.FunctionError)
	var first activities.Runtime
	require.NoError(t, json.Unmarshal(out.Payload, &first))
	assert.Equal(t, "samples", first.Function)
	assert.Equal(t, "256", first.Memory)
	assert.Contains(t, logs, "START RequestId: ")
	assert.Contains(t, logs, "Init Duration:", "the first invocation is a cold start")

	out, logs = invoke("runtime-info", `{}`)
	var second activities.Runtime
	require.NoError(t, json.Unmarshal(out.Payload, &second))
	assert.Equal(t, first.PID, second.PID, "the warm process is reused")
	assert.NotContains(t, logs, "Init Duration:")
	assert.Contains(t, logs, "REPORT RequestId: ")

	out, _ = invoke("fail", `{"type":"Nope","message":"no way"}`)
	assert.Equal(t, "Unhandled", aws.ToString(out.FunctionError))
	assert.JSONEq(t, `{"errorType":"Nope","errorMessage":"no way"}`, string(out.Payload))

	st, _ := h.Stats("samples")
	assert.Equal(t, functionhost.FunctionStats{Invocations: 3, ColdStarts: 1, Errors: 1, Environments: 1}, st)
}

func TestCrashedProcessIsReplaced(t *testing.T) {
	h, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"samples": {Bootstrap: bootstrap(t), Concurrency: 1},
	}})
	inv := newInvoker(t, url, awslambda.Options{DefaultFunction: "samples", LogTail: true})
	info := func() activities.Runtime {
		out, err := inv.Invoke(context.Background(), req("runtime-info", `{}`))
		require.NoError(t, err)
		var r activities.Runtime
		require.NoError(t, json.Unmarshal(out, &r))
		return r
	}
	before := info()

	_, err := inv.Invoke(context.Background(), req("crash", `3`))
	var fe *faas.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, faas.KindCrash, fe.Kind)
	assert.Equal(t, "Runtime.ExitError", fe.Type)
	assert.Contains(t, fe.Message, "exit status 3")
	assert.Equal(t, "RuntimeCrash", failerr.From(fe).Type)

	after := info()
	assert.NotEqual(t, before.PID, after.PID, "a new process replaced the crashed one")
	st, _ := h.Stats("samples")
	assert.Equal(t, int64(1), st.Crashes)
	assert.Equal(t, int64(2), st.ColdStarts)
	assert.Equal(t, 1, st.Environments)
}

func TestIdleShutdown(t *testing.T) {
	h, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"samples": {Bootstrap: bootstrap(t), IdleTimeout: 20 * time.Millisecond},
	}})
	inv := newInvoker(t, url, awslambda.Options{DefaultFunction: "samples"})
	_, err := inv.Invoke(context.Background(), req("greet", `"a"`))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, _ := h.Stats("samples")
		return st.Environments == 0
	}, 10*time.Second, 10*time.Millisecond, "the idle process is stopped")
	_, err = inv.Invoke(context.Background(), req("greet", `"b"`))
	require.NoError(t, err)
	st, _ := h.Stats("samples")
	assert.Equal(t, int64(2), st.ColdStarts)
}

// gate is an in-process activity that blocks until released, to hold a
// function's only execution slot deterministically.
type gate struct {
	started chan struct{}
	release chan struct{}
}

func newGate(name string) (*gate, activity.Definition) {
	g := &gate{started: make(chan struct{}, 16), release: make(chan struct{})}
	return g, activity.New(name, func(ctx context.Context, _ struct{}) (string, error) {
		g.started <- struct{}{}
		<-g.release
		return "opened", nil
	})
}

func TestThrottlingUnderConcurrency(t *testing.T) {
	g, gateAct := newGate("gate")
	g2, gateAct2 := newGate("gate2")
	h, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"gated":  {InProcess: true, Concurrency: 1, OnLimit: functionhost.Throttle},
		"queued": {InProcess: true, Concurrency: 1, OnLimit: functionhost.Queue},
	}}, gateAct, gateAct2)

	first := make(chan error, 1)
	noRetry := newInvoker(t, url, awslambda.Options{DefaultFunction: "gated", Retry: awslambda.RetryOptions{MaxTries: 1}})
	go func() {
		_, err := noRetry.Invoke(context.Background(), req("gate", `{}`))
		first <- err
	}()
	<-g.started

	_, err := noRetry.Invoke(context.Background(), req("greet", `"x"`))
	var fe *faas.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, faas.KindThrottled, fe.Kind)
	assert.Equal(t, "TooManyRequestsException", fe.Type)
	assert.False(t, fe.NonRetryable)
	assert.Equal(t, "Throttled", failerr.From(fe).Type)
	st, _ := h.Stats("gated")
	assert.Equal(t, int64(1), st.Throttles, "the SDK did not retry behind the invoker's back")

	// With a retry budget, the invoker backs off and gets through once the
	// slot frees.
	retrying := newInvoker(t, url, awslambda.Options{DefaultFunction: "gated",
		Retry: awslambda.RetryOptions{MaxTries: 1000, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
	second := make(chan error, 1)
	go func() {
		_, err := retrying.Invoke(context.Background(), req("greet", `"y"`))
		second <- err
	}()
	require.Eventually(t, func() bool { st, _ := h.Stats("gated"); return st.Throttles >= 2 }, 10*time.Second, time.Millisecond)
	close(g.release)
	require.NoError(t, <-first)
	require.NoError(t, <-second)

	// A queueing function makes the excess wait instead.
	queued := newInvoker(t, url, awslambda.Options{DefaultFunction: "queued", Retry: awslambda.RetryOptions{MaxTries: 1}})
	results := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func() {
			_, err := queued.Invoke(context.Background(), req("gate2", `{}`))
			results <- err
		}()
	}
	<-g2.started
	close(g2.release)
	for i := 0; i < 3; i++ {
		require.NoError(t, <-results)
	}
	st, _ = h.Stats("queued")
	assert.Equal(t, int64(0), st.Throttles)
}

func TestBrokenBootstrap(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "bootstrap")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho 'cannot initialise' >&2\nexit 7\n"), 0o755))
	h, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"broken": {Bootstrap: script}}})
	_, err := newInvoker(t, url, awslambda.Options{DefaultFunction: "broken"}).Invoke(context.Background(), req("greet", `"x"`))
	var fe *faas.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, faas.KindCrash, fe.Kind)
	assert.Contains(t, fe.Message, "exit status 7")
	st, _ := h.Stats("broken")
	assert.Equal(t, 0, st.Environments)
}

func TestInvokerTimeoutShorterThanFunction(t *testing.T) {
	_, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"samples": {Bootstrap: bootstrap(t), Timeout: 2 * time.Second},
	}})
	inv := newInvoker(t, url, awslambda.Options{DefaultFunction: "samples"})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := inv.Invoke(ctx, req("sleep", `500`))
	var fe *faas.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, faas.KindTimeout, fe.Kind)

	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	_, err = inv.Invoke(cctx, req("greet", `"x"`))
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.As(err, &fe))
}

func TestStartRefusesNonLoopback(t *testing.T) {
	h, err := functionhost.New(&functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"a": {InProcess: true}}},
		functionhost.Options{Activities: activities.All()})
	require.NoError(t, err)
	defer h.Close(context.Background())
	_, err = h.Start("0.0.0.0:0")
	assert.ErrorContains(t, err, "refusing to listen")
}
