package functionhost_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
)

// busyRuntime is a curl custom runtime that records its Runtime API
// address (without the path), and the request id it is working on, in
// dir, then holds the invocation until dir/release exists.
const busyRuntime = `#!/usr/bin/env bash
set -u
dir=%q
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
echo "${AWS_LAMBDA_RUNTIME_API%%%%/*}" > "$dir/addr"
while true; do
  curl -sS -D "$dir/headers" -o "$dir/body" "$api/invocation/next" || exit 1
  id="$(sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *\([^\r]*\).*/\1/p' "$dir/headers")"
  echo "$id" > "$dir/id"
  while [ ! -e "$dir/release" ]; do sleep 0.01; done
  curl -sS -X POST "$api/invocation/$id/response" -d '{"from":"the function"}' >/dev/null || exit 1
done
`

// TestRuntimeAPIIsClosedToOtherProcesses: while a bootstrap is busy, a
// foreign process that finds its Runtime API port can neither take the
// next caller's payload nor post a forged response. Before, a foreign
// curl to /invocation/next received the next caller's payload and its
// forged response reached the caller.
func TestRuntimeAPIIsClosedToOtherProcesses(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "bootstrap")
	require.NoError(t, os.WriteFile(script, []byte(fmt.Sprintf(busyRuntime, dir)), 0o755))
	_, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"busy": {Bootstrap: script, Concurrency: 1, Timeout: time.Minute},
	}})
	client := newClient(t, url)
	res := make(chan string, 1)
	go func() {
		out, err := client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("busy"), Payload: []byte(`{"secret":"hunter2"}`)})
		if err != nil {
			res <- err.Error()
			return
		}
		res <- string(out.Payload)
	}()
	read := func(name string) string {
		var b []byte
		require.Eventually(t, func() bool {
			var err error
			b, err = os.ReadFile(filepath.Join(dir, name))
			return err == nil && len(b) > 0
		}, 30*time.Second, 5*time.Millisecond)
		return strings.TrimSpace(string(b))
	}
	addr, id := read("addr"), read("id")
	host, _, err := net.SplitHostPort(addr)
	require.NoError(t, err, "the runtime API address is host:port/token: %q", addr)
	assert.Equal(t, "127.0.0.1", host)

	foreign := &http.Client{Timeout: 10 * time.Second}
	defer foreign.CloseIdleConnections()
	var wg sync.WaitGroup
	for _, probe := range []struct{ method, path, body string }{
		{"GET", "/2018-06-01/runtime/invocation/next", ""},
		{"POST", "/2018-06-01/runtime/invocation/" + id + "/response", `{"forged":true}`},
		{"POST", "/2018-06-01/runtime/invocation/" + id + "/error", `{"errorType":"Forged","errorMessage":"x"}`},
		{"POST", "/2018-06-01/runtime/init/error", `{}`},
		{"GET", "/00000000000000000000000000000000/2018-06-01/runtime/invocation/next", ""},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(probe.method, "http://"+addr+probe.path, strings.NewReader(probe.body))
			require.NoError(t, err)
			resp, err := foreign.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			assert.Equal(t, http.StatusNotFound, resp.StatusCode, "%s %s: %s", probe.method, probe.path, body)
			assert.NotContains(t, string(body), "hunter2")
		}()
	}
	wg.Wait()
	select {
	case r := <-res:
		t.Fatalf("the caller got an answer before the function gave one: %s", r)
	default:
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "release"), nil, 0o644))
	assert.JSONEq(t, `{"from":"the function"}`, <-res, "the caller gets the function's own response")
}

// TestSlowBodiesAreCutOff: clients that send their request bodies slowly
// are disconnected after Options.RequestTimeout, and the host keeps
// serving meanwhile. Before, 1,000 such connections stayed open for 40 s
// and held 1,014 file descriptors.
func TestSlowBodiesAreCutOff(t *testing.T) {
	_, url := startHostWith(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"local": {InProcess: true}}},
		functionhost.Options{RequestTimeout: 300 * time.Millisecond})
	addr := strings.TrimPrefix(url, "http://")
	const n = 200
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		conns = append(conns, c)
		_, err = fmt.Fprintf(c, "POST /2015-03-31/functions/local/invocations HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\n{\"activity\":", addr)
		require.NoError(t, err)
	}
	// The host still answers others.
	out, err := newInvoker(t, url, awslambda.Options{DefaultFunction: "local"}).Invoke(context.Background(), req("greet", `"ada"`))
	require.NoError(t, err)
	assert.Equal(t, `"hello, ada"`, string(out))

	for i, c := range conns {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
		_, err := io.ReadAll(c) // EOF (or a reset) once the host closes the connection
		var ne net.Error
		if errors.As(err, &ne) {
			assert.False(t, ne.Timeout(), "conn %d: still open after 30s", i)
		}
	}
}

// TestInvokeAPIRequiresTheHostsSignature: the Invoke API and the control
// plane run code, and any local process can reach a loopback port, so a
// request must carry a Signature Version 4 made with the host's
// credentials. Before, any local process could invoke, and (with the
// control plane) upload and run code.
func TestInvokeAPIRequiresTheHostsSignature(t *testing.T) {
	h, url := startHostWith(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"local": {InProcess: true}}},
		functionhost.Options{AccessKeyID: "AKIDHOST", SecretAccessKey: "the-secret"})
	id, secret := h.Credentials()
	assert.Equal(t, "AKIDHOST", id)
	assert.Equal(t, "the-secret", secret)
	call := func(id, secret string) error {
		c, err := awslambda.NewClient(context.Background(), awslambda.ClientConfig{Region: "eu-west-3", Endpoint: url, AccessKeyID: id, SecretAccessKey: secret})
		require.NoError(t, err)
		_, err = c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("local"), Payload: envelopeOf(t, "greet", `"ada"`)})
		return err
	}
	require.NoError(t, call("AKIDHOST", "the-secret"), "the host's own credentials, any region")
	for _, tt := range []struct{ name, id, secret, code string }{
		{"another key", "AKIDOTHER", "the-secret", "UnrecognizedClientException"},
		{"a wrong secret", "AKIDHOST", "guess", "InvalidSignatureException"},
	} {
		var ae smithy.APIError
		require.ErrorAs(t, call(tt.id, tt.secret), &ae, tt.name)
		assert.Equal(t, tt.code, ae.ErrorCode(), tt.name)
	}

	raw := func(mutate func(*http.Request), body string) (int, string) {
		req, err := http.NewRequest("POST", url+"/2015-03-31/functions/local/invocations", strings.NewReader(body))
		require.NoError(t, err)
		mutate(req)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType") + " " + string(b)
	}
	signAs := func(at time.Time, payload string) func(*http.Request) {
		return func(req *http.Request) {
			sum := sha256.Sum256([]byte(payload))
			require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDHOST", SecretAccessKey: "the-secret"},
				req, hex.EncodeToString(sum[:]), "lambda", "us-east-1", at))
		}
	}
	body := string(envelopeOf(t, "greet", `"ada"`))
	for _, tt := range []struct {
		name   string
		mutate func(*http.Request)
		body   string
		status int
		want   string
	}{
		{"unsigned", func(*http.Request) {}, body, 403, "MissingAuthenticationTokenException"},
		{"signed", signAs(time.Now(), body), body, 200, "hello, ada"},
		{"another body than signed", signAs(time.Now(), body), strings.Replace(body, "ada", "eve", 1), 403, "InvalidSignatureException"},
		{"an old signature", signAs(time.Now().Add(-time.Hour), body), body, 403, "Signature expired"},
		{"not Signature Version 4", func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") }, body, 400, "IncompleteSignatureException"},
	} {
		status, got := raw(tt.mutate, tt.body)
		assert.Equal(t, tt.status, status, "%s: %s", tt.name, got)
		assert.Contains(t, got, tt.want, tt.name)
	}

	// The control plane too: an unsigned CreateFunction runs nothing.
	req, err := http.NewRequest("POST", url+"/2015-03-31/functions", strings.NewReader(`{"FunctionName":"evil","Runtime":"provided.al2023","Role":"r","Code":{"ZipFile":""}}`))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, []string{"local"}, h.FunctionNames())
}
