package functionhost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
)

const maxFuzzInput = 64 << 10

// The activities of the fuzzed host: quick ones only, so that an input
// cannot make an invocation slow.
var (
	fuzzEcho = activity.New("fuzz.echo", func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil })
	fuzzFail = activity.New("fuzz.fail", func(ctx context.Context, msg string) (string, error) {
		return "", activity.NewNonRetryableError("Fuzz", msg)
	})
	fuzzPanic = activity.New("fuzz.panic", func(ctx context.Context, msg string) (string, error) { panic(msg) })
)

func envelope(tb testing.TB, act, input string) []byte {
	b, err := lambdawire.EncodeEnvelope(faas.Request{Activity: act, Input: []byte(input), InstanceID: "i-1", TaskID: 1, Attempt: 1, IdempotencyKey: "i-1/1/1"})
	require.NoError(tb, err)
	return b
}

// FuzzInvokeAPI drives the host's real Invoke handler with random
// bodies, function names or paths, and invocation headers. Every request
// is answered promptly with a status the Lambda API uses; errors carry an
// X-Amzn-ErrorType and a JSON body; a 200 carries JSON (a result or
// Lambda's error shape with X-Amz-Function-Error) and a decodable log
// tail.
func FuzzInvokeAPI(f *testing.F) {
	h, err := New(&Config{Functions: map[string]FunctionConfig{
		"local":  {InProcess: true, Timeout: time.Second, Concurrency: 4},
		"direct": {Activity: fuzzEcho.Name(), Timeout: time.Second, Concurrency: 1},
	}}, Options{
		Activities:  []activity.Definition{fuzzEcho, fuzzFail, fuzzPanic},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		AccessKeyID: "fuzz", SecretAccessKey: "fuzz",
	})
	require.NoError(f, err)
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(f, h.Close(ctx))
	})
	handler := h.Handler()

	for _, body := range [][]byte{
		envelope(f, fuzzEcho.Name(), `{"a":[1,2]}`), envelope(f, fuzzEcho.Name(), "\xff\x00"),
		envelope(f, fuzzFail.Name(), `"no"`), envelope(f, fuzzPanic.Name(), `"at the disco"`),
		envelope(f, "nope", `{}`), envelope(f, fuzzFail.Name(), `{"x":1}`),
		[]byte(`{"direct":true}`), []byte(`not json`), nil,
	} {
		for _, name := range []string{"local", "direct"} {
			f.Add("POST", name, "", "Tail", "", body)
		}
	}
	f.Add("POST", "arn:aws:lambda:us-east-1:000000000000:function:local:$LATEST", "RequestResponse", "", "", envelope(f, fuzzEcho.Name(), `1`))
	f.Add("POST", "000000000000:function:local", "Event", "", "", envelope(f, fuzzEcho.Name(), `1`))
	f.Add("POST", "local", "DryRun", "", "", []byte(nil))
	f.Add("POST", "local", "Bogus", "", "", []byte(nil))
	f.Add("POST", "missing", "", "", "", []byte(nil))
	f.Add("GET", "/2015-03-31/functions/local/invocations", "", "", "", []byte(nil))
	f.Add("PUT", "/2018-06-01/runtime/invocation/next", "", "", "", []byte(`x`))
	f.Add("POST", "/2015-03-31/functions/a%2Fb/invocations", "", "", "", []byte(nil))
	f.Add("POST", "local", "", "", base64.StdEncoding.EncodeToString([]byte(`{"custom":{"a":"b"}}`)), envelope(f, fuzzEcho.Name(), `1`))
	f.Add("POST", "local", "Event", "", "bm90IGpzb24=", envelope(f, fuzzEcho.Name(), `1`))
	f.Add("POST", "local:7", "", "", "", envelope(f, fuzzEcho.Name(), `1`))
	f.Add("POST", "/2015-03-31/functions/local/invocations?Qualifier=live", "", "", "", envelope(f, fuzzEcho.Name(), `1`))
	f.Fuzz(func(t *testing.T, method, target, invocationType, logType, clientContext string, body []byte) {
		if len(target)+len(body)+len(invocationType)+len(logType)+len(clientContext) > maxFuzzInput {
			t.Skip("bounded input")
		}
		if !strings.HasPrefix(target, "/") {
			target = "/2015-03-31/functions/" + target + "/invocations"
		}
		req, err := http.NewRequest(method, "http://127.0.0.1"+target, bytes.NewReader(body))
		if err != nil || req.URL.Path == "" {
			t.Skip("not a request a client can send")
		}
		req.RequestURI = target
		req.Header.Set("X-Amz-Invocation-Type", invocationType)
		req.Header.Set("X-Amz-Log-Type", logType)
		req.Header.Set("X-Amz-Client-Context", clientContext)
		sum := sha256.Sum256(body)
		if v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "fuzz", SecretAccessKey: "fuzz"},
			req, hex.EncodeToString(sum[:]), "lambda", "us-east-1", time.Now()) != nil {
			t.Skip("not a request the SDK can sign")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req = req.WithContext(ctx)
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { defer close(done); handler.ServeHTTP(rec, req) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("the Invoke API hangs on %s %q", method, target)
		}
		res := rec.Result()
		out := rec.Body.Bytes()
		switch res.StatusCode {
		case http.StatusOK:
			require.True(t, json.Valid(out), "a 200 carries JSON: %q", out)
			require.NotEmpty(t, res.Header.Get("X-Amzn-RequestId"))
			require.NotEmpty(t, res.Header.Get("X-Amz-Executed-Version"))
			if res.Header.Get("X-Amz-Function-Error") != "" {
				e, ok := lambdawire.ParseErrorBody(out)
				require.True(t, ok, "a function error has Lambda's shape: %s", out)
				require.NotEmpty(t, e.Type)
			}
			if tail := res.Header.Get("X-Amz-Log-Result"); tail != "" {
				_, err := base64.StdEncoding.DecodeString(tail)
				require.NoError(t, err)
			}
		case http.StatusAccepted, http.StatusNoContent:
		case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			// a path to clean (net/http's ServeMux)
		case http.StatusForbidden:
			t.Fatalf("a request signed with the host's credentials was refused: %s", out)
		case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
			require.NotEmpty(t, res.Header.Get("X-Amzn-ErrorType"), "an API error names its type")
			require.True(t, json.Valid(out), "an API error carries JSON: %q", out)
			require.Contains(t, string(out), "message")
		default:
			t.Fatalf("status %d for %s %q: %s", res.StatusCode, method, target, out)
		}
	})
}

// testEnvironment is an execution environment without a process: its
// Runtime API handlers, with invocation id in flight.
func testEnvironment(id string) (*environment, *invocation) {
	e := &environment{
		token:  "0123456789abcdef0123456789abcdef",
		polled: make(chan struct{}, 1), ready: make(chan struct{}), initErr: make(chan outcome, 1),
		exited: make(chan struct{}), closing: make(chan struct{}), started: time.Now(),
	}
	inv := &invocation{id: id, payload: []byte(`{"activity":"a"}`), arn: "arn:aws:lambda:us-east-1:000000000000:function:f",
		timeout: time.Second, done: make(chan outcome, 1)}
	e.cur = inv
	return e, inv
}

// FuzzRuntimeAPI drives an execution environment's real Runtime API
// handlers (what a bootstrap calls) with random methods, paths, headers,
// trailers and bodies. Every call is answered promptly with JSON; a
// response or error the handler accepts for the invocation in flight
// hands the Invoke API exactly one outcome (an error posted to /error
// byte for byte, as Lambda passes it on), and a request without the
// environment's path token is refused.
func FuzzRuntimeAPI(f *testing.F) {
	const id = "8f2b7c1e-0d3a-4b5c-9e6f-1a2b3c4d5e6f"
	for _, s := range []struct{ method, path, errType, trailerType, trailerBody, body string }{
		{"GET", "/invocation/next", "", "", "", ""},
		{"POST", "/invocation/" + id + "/response", "", "", "", `"hello"`},
		{"POST", "/invocation/" + id + "/response", "", "Function.Panic", base64.StdEncoding.EncodeToString([]byte(`{"errorType":"Panic","errorMessage":"boom"}`)), `"partial`},
		{"POST", "/invocation/" + id + "/response", "", "Function.Panic", "!!", ``},
		{"POST", "/invocation/" + id + "/error", "Custom.Type", "", "", `{"errorType":"Boom","errorMessage":"failed","stackTrace":[{"path":"a.go","line":1,"label":"f"}]}`},
		{"POST", "/invocation/" + id + "/error", "Custom.Type", "", "", `plain text`},
		{"POST", "/invocation/" + id + "/error", "", "", "", `{"errorMessage":"no type"}`},
		{"POST", "/invocation/other/response", "", "", "", `1`},
		{"POST", "/init/error", "Runtime.BadInit", "", "", `{"errorMessage":"init"}`},
		{"DELETE", "/invocation/next", "", "", "", ""},
		{"POST", "/invocation//response", "", "", "", ""},
	} {
		f.Add(s.method, runtimePrefix+s.path, s.errType, s.trailerType, s.trailerBody, []byte(s.body), false)
		f.Add(s.method, runtimePrefix+s.path, s.errType, s.trailerType, s.trailerBody, []byte(s.body), true)
	}
	f.Fuzz(func(t *testing.T, method, path, errType, trailerType, trailerBody string, body []byte, closing bool) {
		if len(path)+len(errType)+len(trailerType)+len(trailerBody)+len(body) > maxFuzzInput {
			t.Skip("bounded input")
		}
		e, inv := testEnvironment(id)
		withToken := "/" + e.token + path
		req, err := http.NewRequest(method, "http://127.0.0.1"+withToken, bytes.NewReader(body))
		if err != nil || !strings.HasPrefix(path, "/") {
			t.Skip("not a request a runtime can send")
		}
		req.RequestURI = withToken
		req.Header.Set(hdrErrorType, errType)
		if trailerType != "" || trailerBody != "" {
			req.Trailer = http.Header{hdrErrorType: {trailerType}, trailerErrBody: {trailerBody}}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond) // a /next poll with nothing to take returns
		defer cancel()
		req = req.WithContext(ctx)
		if closing {
			close(e.closing)
		}
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { defer close(done); e.routes().ServeHTTP(rec, req) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("the Runtime API hangs on %s %q", method, path)
		}
		res := rec.Result()
		out := rec.Body.Bytes()
		switch res.StatusCode {
		case http.StatusOK: // a /next poll that got nothing (its context ended) writes nothing
		case http.StatusAccepted:
			require.JSONEq(t, `{"status":"OK"}`, string(out))
		case http.StatusBadRequest, http.StatusGone, http.StatusForbidden:
			var er lambdawire.ErrorResponse
			require.NoError(t, json.Unmarshal(out, &er), "%q", out)
			require.NotEmpty(t, er.Type)
			require.NotEmpty(t, er.Message)
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			// no such route, or a path to clean: net/http's own answers
			return
		default:
			t.Fatalf("status %d for %s %q: %s", res.StatusCode, method, path, out)
		}
		select {
		case o := <-inv.done:
			require.Equal(t, http.StatusAccepted, res.StatusCode, "only an accepted call completes the invocation")
			if o.functionError && strings.HasSuffix(path, "/error") {
				require.Equal(t, body, o.body, "a posted error reaches the caller byte for byte")
			} else if o.functionError {
				er, ok := lambdawire.ParseErrorBody(o.body)
				require.True(t, ok, "an error outcome the host makes has Lambda's shape: %s", o.body)
				require.NotEmpty(t, er.Type, "%s", o.body)
			}
			select {
			case <-inv.done:
				t.Fatal("two outcomes for one invocation")
			default:
			}
		default:
		}
		select {
		case ie := <-e.initErr:
			require.True(t, ie.functionError)
			require.Equal(t, body, ie.body, "a posted init error reaches the caller byte for byte")
		default:
		}

		// Without the token, nothing is served.
		foreign, err := http.NewRequestWithContext(ctx, method, "http://127.0.0.1"+path, bytes.NewReader(body))
		require.NoError(t, err)
		frec := httptest.NewRecorder()
		e.routes().ServeHTTP(frec, foreign)
		require.Equal(t, http.StatusNotFound, frec.Code, "a request without the environment's token is refused")
		select {
		case <-inv.done:
			t.Fatal("a request without the token completed the invocation")
		default:
		}
	})
}
