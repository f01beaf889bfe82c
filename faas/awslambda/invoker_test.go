package awslambda_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeLambda is a scripted Lambda endpoint on 127.0.0.1: it isolates the
// invoker's retry and error-detection logic (the real host is exercised in
// faas/functionhost).
type fakeLambda struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
	script   []func(w http.ResponseWriter)
}

func (f *fakeLambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	n := len(f.requests)
	f.requests = append(f.requests, r)
	f.bodies = append(f.bodies, body)
	step := f.script[min(n, len(f.script)-1)]
	f.mu.Unlock()
	step(w)
}

func (f *fakeLambda) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func serviceError(status int, code string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"message":"scripted `+code+`"}`)
	}
}

func ok(body string, headers ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, body)
	}
}

// status answers with a bare status and body, as AWS's Runtime Interface
// Emulator does (no X-Amzn-ErrorType).
func status(code int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func newInvoker(t *testing.T, f *fakeLambda, opts awslambda.Options) *awslambda.Invoker {
	t.Helper()
	srv := httptest.NewServer(f) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	client, err := awslambda.NewClient(context.Background(), awslambda.ClientConfig{
		Region: "eu-west-1", Endpoint: srv.URL, AccessKeyID: "k", SecretAccessKey: "s", HTTPClient: &http.Client{Transport: tr},
	})
	require.NoError(t, err)
	if opts.Retry.BaseDelay == 0 {
		opts.Retry.BaseDelay = time.Millisecond
	}
	inv, err := awslambda.New(client, opts)
	require.NoError(t, err)
	return inv
}

func TestOnlyWhatDidNotRunIsRetried(t *testing.T) {
	tests := []struct {
		name     string
		script   []func(http.ResponseWriter)
		tries    int
		wantReqs int
		kind     faas.Kind
		nonRetry bool
	}{
		{"throttled then success", []func(http.ResponseWriter){serviceError(429, "TooManyRequestsException"), serviceError(429, "TooManyRequestsException"), ok(`"done"`)}, 3, 3, "", false},
		{"throttled beyond budget", []func(http.ResponseWriter){serviceError(429, "TooManyRequestsException")}, 3, 3, faas.KindThrottled, false},
		{"5xx may have run: not retried here", []func(http.ResponseWriter){serviceError(503, "ServiceException"), ok(`"done"`)}, 3, 1, faas.KindUnavailable, false},
		{"502 service error: not retried here", []func(http.ResponseWriter){serviceError(502, "EC2UnexpectedException")}, 3, 1, faas.KindUnavailable, false},
		{"4xx is not retried", []func(http.ResponseWriter){serviceError(403, "AccessDeniedException")}, 5, 1, faas.KindUnavailable, true},
		{"not found is not retried", []func(http.ResponseWriter){serviceError(404, "ResourceNotFoundException")}, 5, 1, faas.KindNotFound, true},
		{"413 is not retried", []func(http.ResponseWriter){serviceError(413, "RequestEntityTooLargeException")}, 5, 1, faas.KindPayloadTooLarge, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeLambda{script: tt.script}
			inv := newInvoker(t, f, awslambda.Options{Retry: awslambda.RetryOptions{MaxTries: tt.tries}})
			out, err := inv.Invoke(context.Background(), faas.Request{Activity: "act", Input: []byte(`1`)})
			assert.Equal(t, tt.wantReqs, f.count(), "requests reaching Lambda: the SDK must not retry on its own")
			if tt.kind == "" {
				require.NoError(t, err)
				assert.Equal(t, `"done"`, string(out))
				return
			}
			var fe *faas.Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.kind, fe.Kind)
			assert.Contains(t, fe.Message, "scripted")
			assert.Equal(t, tt.nonRetry, fe.NonRetryable, "whether the worker's retry policy may retry it")
		})
	}
}

// TestConnectionFailures: a connection never made is retried (the
// function did not run); one lost after the request went out is not.
func TestConnectionFailures(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close()) // nothing listens there now
		var dials atomic.Int32
		tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, a)
		}}
		inv := invokerOver(t, "http://"+addr, tr, 3)
		_, err = inv.Invoke(context.Background(), faas.Request{Activity: "act"})
		var fe *faas.Error
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, faas.KindUnavailable, fe.Kind)
		assert.False(t, fe.NonRetryable)
		assert.Equal(t, int32(3), dials.Load(), "tried MaxTries times")
	})
	t.Run("lost after sending", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		var accepted atomic.Int32
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				accepted.Add(1)
				_, _ = c.Read(make([]byte, 1024)) // the request arrives, the function "runs"...
				_ = c.Close()                     // ...and the connection is lost
			}
		}()
		t.Cleanup(func() { _ = l.Close(); <-done })
		inv := invokerOver(t, "http://"+l.Addr().String(), &http.Transport{}, 3)
		_, err = inv.Invoke(context.Background(), faas.Request{Activity: "act"})
		var fe *faas.Error
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, faas.KindUnavailable, fe.Kind)
		assert.False(t, fe.NonRetryable, "the worker's policy may retry it")
		assert.Equal(t, int32(1), accepted.Load(), "not retried by the invoker: it may have run")
	})
}

func invokerOver(t *testing.T, url string, tr *http.Transport, tries int) *awslambda.Invoker {
	t.Helper()
	t.Cleanup(tr.CloseIdleConnections)
	client, err := awslambda.NewClient(context.Background(), awslambda.ClientConfig{
		Region: "eu-west-1", Endpoint: url, AccessKeyID: "k", SecretAccessKey: "s", HTTPClient: &http.Client{Transport: tr},
	})
	require.NoError(t, err)
	inv, err := awslambda.New(client, awslambda.Options{Retry: awslambda.RetryOptions{MaxTries: tries, BaseDelay: time.Millisecond}})
	require.NoError(t, err)
	return inv
}

func TestEnvelopeAndFunctionErrors(t *testing.T) {
	tests := []struct {
		name    string
		resp    func(http.ResponseWriter)
		want    string
		kind    faas.Kind
		errType string
	}{
		{"result", ok(`{"n":1}`), `{"n":1}`, "", ""},
		{"function error header", ok(`{"errorType":"Bad:NonRetryable","errorMessage":"bad input"}`, "X-Amz-Function-Error", "Unhandled"), "", faas.KindApplication, "Bad"},
		{"foreign error with extra keys", ok(`{"errorType":"java.lang.IllegalStateException","errorMessage":"m","stackTrace":["a.B.c(B.java:1)"],"cause":{"errorMessage":"inner"}}`, "X-Amz-Function-Error", "Unhandled"), "", faas.KindApplication, "java.lang.IllegalStateException"},
		{"foreign error mentioning a timeout", ok(`{"errorType":"ReadTimeout","errorMessage":"upstream: Task timed out after 3.00 seconds"}`, "X-Amz-Function-Error", "Unhandled"), "", faas.KindApplication, "ReadTimeout"},
		{"foreign type that is only the marker", ok(`{"errorType":":NonRetryable","errorMessage":"m"}`, "X-Amz-Function-Error", "Unhandled"), "", faas.KindApplication, ":NonRetryable"},
		{"error body without the header", ok(`{"errorType":"Oops","errorMessage":"lost header"}`), "", faas.KindApplication, "Oops"},
		{"timeout", ok(`{"errorMessage":"2024-01-01T00:00:00Z abc Task timed out after 3.00 seconds"}`, "X-Amz-Function-Error", "Unhandled"), "", faas.KindTimeout, ""},
		{"emulator's timeout text", ok(`Task timed out after 3.00 seconds`), "", faas.KindTimeout, "Sandbox.Timedout"},
		{"a JSON string that says so is a result", ok(`"Task timed out after 3.00 seconds"`), `"Task timed out after 3.00 seconds"`, "", ""},
		{"emulator's crash: 502 and the function error", status(502, `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: r Error: Runtime exited with error: exit status 1"}`), "", faas.KindCrash, "Runtime.ExitError"},
		{"emulator's empty 502", status(502, ``), "", faas.KindUnavailable, ""},
		{"runtime exit", ok(`{"errorType":"Runtime.ExitError","errorMessage":"exit status 2"}`, "X-Amz-Function-Error", "Unhandled"), "", faas.KindCrash, "Runtime.ExitError"},
		{"non-JSON function error", ok(`boom`, "X-Amz-Function-Error", "Unhandled"), "", faas.KindApplication, "Unhandled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeLambda{script: []func(http.ResponseWriter){tt.resp}}
			inv := newInvoker(t, f, awslambda.Options{Functions: map[string]string{"act": "arn:aws:lambda:eu-west-1:123456789012:function:fn"}, Qualifier: "live"})
			out, err := inv.Invoke(context.Background(), faas.Request{Activity: "act", Input: []byte(`{"a":1}`), InstanceID: "i", TaskID: 2, Attempt: 3, IdempotencyKey: "i/2/3"})

			require.Equal(t, 1, f.count())
			r := f.requests[0]
			assert.Equal(t, "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Afn/invocations", r.URL.EscapedPath())
			assert.Equal(t, "live", r.URL.Query().Get("Qualifier"))
			assert.Equal(t, "RequestResponse", r.Header.Get("X-Amz-Invocation-Type"))
			var env map[string]any
			require.NoError(t, json.Unmarshal(f.bodies[0], &env))
			assert.Equal(t, map[string]any{"activity": "act", "input": map[string]any{"a": 1.0}, "instanceId": "i", "taskId": 2.0, "attempt": 3.0, "idempotencyKey": "i/2/3"}, env)

			if tt.kind == "" {
				require.NoError(t, err)
				assert.JSONEq(t, tt.want, string(out))
				return
			}
			var fe *faas.Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.kind, fe.Kind)
			if tt.errType != "" {
				assert.Equal(t, tt.errType, fe.Type)
			}
		})
	}
}

func TestFunctionFor(t *testing.T) {
	client, err := awslambda.NewClient(context.Background(), awslambda.ClientConfig{Region: "us-east-1", AccessKeyID: "k", SecretAccessKey: "s"})
	require.NoError(t, err)
	tests := []struct {
		name     string
		opts     awslambda.Options
		activity string
		fn, qual string
	}{
		{"activity name by default", awslambda.Options{}, "count-words", "count-words", ""},
		{"prefix and qualifier", awslambda.Options{Prefix: "app-", Qualifier: "prod"}, "count-words", "app-count-words", "prod"},
		{"one function for all", awslambda.Options{DefaultFunction: "workers", Qualifier: "3"}, "x", "workers", "3"},
		{"explicit map wins", awslambda.Options{DefaultFunction: "workers", Functions: map[string]string{"x": "special"}}, "x", "special", ""},
		{"own qualifier kept", awslambda.Options{Functions: map[string]string{"x": "fn:blue"}, Qualifier: "prod"}, "x", "fn:blue", ""},
		{"qualified ARN kept", awslambda.Options{Functions: map[string]string{"x": "arn:aws:lambda:us-east-1:1:function:fn:blue"}, Qualifier: "prod"}, "x", "arn:aws:lambda:us-east-1:1:function:fn:blue", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := awslambda.New(client, tt.opts)
			require.NoError(t, err)
			fn, q := inv.FunctionFor(tt.activity)
			assert.Equal(t, tt.fn, fn)
			assert.Equal(t, tt.qual, q)
		})
	}
	_, err = awslambda.New(client, awslambda.Options{Functions: map[string]string{"x": ""}})
	assert.ErrorContains(t, err, `Options.Functions["x"] is empty`)
	_, err = awslambda.NewClient(context.Background(), awslambda.ClientConfig{Region: "us-east-1", AccessKeyID: "only"})
	assert.ErrorContains(t, err, "set both AccessKeyID and SecretAccessKey")
}
