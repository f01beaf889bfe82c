package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/devserver"
	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
)

// served is a `serve` running in the background.
type served struct {
	url   *url.URL // as printed, with ?token= if any
	base  string   // scheme://host:port
	token string
	stop  func() int // cancels serve and returns its exit code
	hc    *http.Client
}

var urlLine = regexp.MustCompile(`(?m)^http://\S+$`)

// runServe runs `serve` with args until the test ends (or stop), and
// returns once it has printed its URL.
func runServe(t *testing.T, regs Registrations, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- Run(ctx, regs, append([]string{"serve"}, args...), &out, &errOut) }()
	code := -1
	stop := func() int {
		cancel()
		if code == -1 {
			code = <-done
		}
		return code
	}
	t.Cleanup(func() { stop() })
	var printed string
	require.Eventually(t, func() bool {
		select {
		case c := <-done:
			code = c
			t.Fatalf("serve exited with %d: %s", c, errOut.String())
		default:
		}
		printed = urlLine.FindString(out.String())
		return printed != ""
	}, 2*time.Minute, 10*time.Millisecond, "serve prints its URL: %s", errOut.String())
	u, err := url.Parse(printed)
	require.NoError(t, err)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &served{url: u, base: "http://" + u.Host, token: u.Query().Get("token"), stop: stop,
		hc: &http.Client{Transport: tr, Timeout: time.Minute}}
}

func (s *served) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	require.NoError(t, err)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, bytes.TrimSpace(b)
}

// startAndWait starts bench.fanout of n through the API and long-polls
// until it ends; it returns the final instance.
func (s *served) startAndWait(t *testing.T, id string, n int) map[string]any {
	t.Helper()
	code, body := s.do(t, "POST", "/api/v1/instances", `{"name":"bench.fanout","id":"`+id+`","input":`+strconv.Itoa(n)+`}`)
	require.Equal(t, http.StatusAccepted, code, "%s", body)
	var in map[string]any
	for range 10 {
		code, body = s.do(t, "GET", "/api/v1/instances/"+id+"/wait?timeout=30s", "")
		require.Contains(t, []int{200, 202}, code, "%s", body)
		if code == 200 {
			require.NoError(t, json.Unmarshal(body, &in))
			return in
		}
	}
	t.Fatalf("%s did not end", id)
	return nil
}

// stopped checks that nothing listens on s's address any more.
func (s *served) stopped(t *testing.T) {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.url.Host, 5*time.Second)
	if err == nil {
		c.Close()
	}
	assert.Error(t, err, "serve stopped listening")
}

func TestServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	s := runServe(t, benchRegs, "--db", db, "--addr", "127.0.0.1:0", "--worker")
	assert.Empty(t, s.token, "no token on loopback")
	assert.Equal(t, "/", s.url.Path)

	in := s.startAndWait(t, "f1", 10)
	assert.Equal(t, "Completed", in["runtimeStatus"])
	assert.EqualValues(t, 45, in["output"], "sum of 0..9")
	code, page := s.do(t, "GET", "/instances/f1", "")
	assert.Equal(t, http.StatusOK, code, "the dashboard's page of the instance")
	assert.Contains(t, string(page), "f1")

	code, body := s.do(t, "GET", "/api/v1/instances/nope", "")
	assert.Equal(t, http.StatusNotFound, code, "%s", body)
	code, body = s.do(t, "POST", "/api/v1/instances", `{"name":"not-registered"}`)
	assert.Equal(t, http.StatusBadRequest, code, "names the worker lacks are refused, as start does: %s", body)
	assert.Contains(t, string(body), "unknown-name")

	assert.Equal(t, ExitOK, s.stop(), "serve stops cleanly on interrupt")
	s.stopped(t)

	// The database outlives serve: the worker finished f1.
	code, out, errOut := cli(t, "--db", db, "status", "f1")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "Completed")
}

// TestServeUntilDoneAnswersInFlight checks the graceful shutdown: a
// request in flight (a long-poll) sees its context cancelled and its
// answer reaches the client, and then serving ends.
func TestServeUntilDoneAnswersInFlight(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done() // as a long-poll's Wait returns
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveUntilDone(ctx, l, h, slog.New(slog.DiscardHandler)) }()
	polled := make(chan int, 1)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	go func() {
		resp, err := (&http.Client{Transport: tr}).Get("http://" + l.Addr().String() + "/wait")
		if err != nil {
			polled <- -1
			return
		}
		resp.Body.Close()
		polled <- resp.StatusCode
	}()
	<-entered
	cancel()
	assert.Equal(t, http.StatusServiceUnavailable, <-polled)
	require.NoError(t, <-served)
	_, err = net.Dial("tcp", l.Addr().String())
	assert.Error(t, err, "closed")
}

func TestServeWithAToken(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	s := runServe(t, benchRegs, "--db", db, "--addr", "127.0.0.1:0", "--token", "t0ken", "--worker")
	assert.Equal(t, "t0ken", s.token, "the URL carries the token")
	req, err := http.NewRequest("GET", s.base+"/api/v1/instances", nil)
	require.NoError(t, err)
	resp, err := s.hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	code, body := s.do(t, "GET", "/api/v1/instances", "")
	assert.Equal(t, http.StatusOK, code, "%s", body)
	assert.Equal(t, ExitOK, s.stop())
	s.stopped(t)

	t.Setenv("CLOUDBUTTON_TOKEN", "fr0m-env")
	s = runServe(t, benchRegs, "--db", db, "--addr", "127.0.0.1:0")
	assert.Equal(t, "fr0m-env", s.token, "CLOUDBUTTON_TOKEN")
	code, body = s.do(t, "GET", "/api/v1/instances", "")
	assert.Equal(t, http.StatusOK, code, "%s", body)
	_, out, _ := cli(t, "serve", "--help")
	assert.NotContains(t, out, "fr0m-env", "--help does not print the token")
}

func TestServeToken(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:8233", "localhost:0", "[::1]:8233"} {
		tok, err := serveToken(addr, "")
		require.NoError(t, err)
		assert.Empty(t, tok, "%s: no token needed on loopback", addr)
	}
	for _, addr := range []string{"0.0.0.0:8233", ":8233", "192.168.1.2:80"} {
		tok, err := serveToken(addr, "")
		require.NoError(t, err)
		assert.Len(t, tok, 32, "%s: a generated token", addr)
		other, _ := serveToken(addr, "")
		assert.NotEqual(t, tok, other, "random")
		tok, _ = serveToken(addr, "mine")
		assert.Equal(t, "mine", tok)
	}
	addr := &net.TCPAddr{IP: net.IPv4zero, Port: 8233}
	name, _ := os.Hostname()
	assert.Equal(t, "http://"+net.JoinHostPort(name, "8233")+"/?token=abc", serveURL(addr, "abc"))
}

func TestServeUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	tests := []struct {
		name string
		regs Registrations
		args []string
		want string
	}{
		{"bad --temporal", benchRegs, []string{"--db", db, "serve", "--temporal", "prod"}, `--temporal "prod": want dev`},
		{"--temporal dev with the embedded engine", benchRegs, []string{"--engine", "embedded", "serve", "--temporal", "dev"}, "serves Temporal"},
		{"a worker with nothing to host", Registrations{}, []string{"--db", db, "serve", "--worker"}, "nothing to host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cliWith(t, tt.regs, tt.args...)
			assert.Equal(t, ExitUsage, code, errOut)
			assert.Contains(t, errOut, tt.want)
		})
	}
	code, _, errOut := cli(t, "--db", filepath.Join(t.TempDir(), "typo.db"), "serve", "--addr", "127.0.0.1:0")
	assert.Equal(t, ExitError, code, "without a worker the database must exist: %s", errOut)
}

// TestServeTemporalDev runs `serve --temporal dev`: a dev server, a
// worker and the server in one command, all stopped on interrupt.
func TestServeTemporalDev(t *testing.T) {
	if _, err := devserver.FindCLI(); err != nil && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	s := runServe(t, benchRegs, "--temporal", "dev", "--addr", "127.0.0.1:0")
	in := s.startAndWait(t, "td1", 10)
	assert.Equal(t, "Completed", in["runtimeStatus"])
	assert.EqualValues(t, 45, in["output"])
	code, page := s.do(t, "GET", "/", "")
	assert.Equal(t, http.StatusOK, code, "the dashboard")
	assert.Contains(t, string(page), "td1")
	assert.Equal(t, ExitOK, s.stop(), "serve stops the server, the worker and the dev server")
	s.stopped(t)
}
