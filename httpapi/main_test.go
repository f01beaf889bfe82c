package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/httpapi"
	"github.com/cloudbutton/cloudbutton/internal/temporaltest"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// TestMain starts a Temporal dev server only if a test needs one, and
// fails the run if goroutines outlive the tests: every engine, worker
// and server a test starts is stopped.
func TestMain(m *testing.M) {
	temporaltest.MainLazy(m, func() error {
		if err := goleak.Find(); err != nil {
			return fmt.Errorf("goleak: %w", err)
		}
		return nil
	})
}

// The orchestrations the tests start.
type order struct {
	Item string `json:"item"`
	Qty  int    `json:"qty"`
}

var (
	echo = orchestration.New("api.echo", func(ctx orchestration.Context, o order) (order, error) {
		return o, nil
	})
	approval = orchestration.New("api.approval", func(ctx orchestration.Context, o order) (string, error) {
		_ = orchestration.SetCustomStatus(ctx, "waiting for approval")
		ok, err := orchestration.WaitEvent[bool](ctx, "approval", 0).Await(ctx)
		if err != nil {
			return "", err
		}
		if !ok {
			return "rejected " + o.Item, nil
		}
		return "approved " + o.Item, nil
	})
	forever = orchestration.New("api.forever", func(ctx orchestration.Context, _ struct{}) (string, error) {
		return orchestration.WaitEvent[string](ctx, "never", 0).Await(ctx)
	})
	failing = orchestration.New("api.failing", func(ctx orchestration.Context, _ struct{}) (string, error) {
		return "", errors.New("boom")
	})
)

func register(w *worker.Worker) { w.RegisterOrchestrators(echo, approval, forever, failing) }

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// openEmbedded opens the embedded engine on a temporary SQLite file with a
// worker, both stopped at cleanup.
func openEmbedded(t testing.TB) client.Client {
	t.Helper()
	eng, err := embedded.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"), embedded.Options{Logger: quiet(), CheckNames: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, eng.Close()) })
	startWorker(t, eng)
	return eng
}

var queues atomic.Int64

// openTemporal opens the Temporal engine on the shared dev server, with a
// task queue of its own and a worker, stopped at cleanup.
func openTemporal(t testing.TB) client.Client {
	t.Helper()
	srv := temporaltest.Require(t)
	eng, err := temporal.Open(context.Background(), temporal.Options{HostPort: srv.HostPort,
		TaskQueue: fmt.Sprintf("httpapi-%d-%d", time.Now().UnixNano(), queues.Add(1)), Logger: quiet()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, eng.Close()) })
	startWorker(t, eng)
	return eng
}

func startWorker(t testing.TB, eng worker.Engine) {
	w := worker.New(eng, worker.Options{Logger: quiet()})
	register(w)
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, w.Stop(ctx))
	})
}

// engines are the engines every API test runs on, one subtest each (run
// one by name: -run 'TestAPI/embedded').
var engines = []struct {
	name string
	open func(testing.TB) client.Client
}{
	{"embedded", openEmbedded},
	{"temporal", openTemporal},
}

// env is the API of one engine served over real HTTP on 127.0.0.1.
type env struct {
	engine string
	c      client.Client
	url    string // the server's root URL
	hc     *http.Client
	// ids makes instance ids unique across runs on one Temporal server.
	ids string
}

func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			fn(t, newEnv(t, eng.name, eng.open(t), httpapi.Options{Logger: quiet()}))
		})
	}
}

func newEnv(t testing.TB, engine string, c client.Client, opts httpapi.Options) *env {
	t.Helper()
	srv := httptest.NewServer(httpapi.New(c, opts))
	t.Cleanup(srv.Close)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &env{engine: engine, c: c, url: srv.URL, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute},
		ids: fmt.Sprintf("%d-", time.Now().UnixNano())}
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) json(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

func (r *response) problem(t testing.TB) httpapi.Problem {
	t.Helper()
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), "body: %s", r.body)
	var p httpapi.Problem
	r.json(t, &p)
	require.Equal(t, r.status, p.Status, "the problem's status is the answer's")
	return p
}

// do sends a request to path (under the server's root) with body and
// headers given as "Name: value".
func (e *env) do(t testing.TB, method, path, body string, headers ...string) *response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := e.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return &response{status: resp.StatusCode, header: resp.Header, body: bytes.TrimSpace(b)}
}

// start starts name with input through the API and returns the answer.
func (e *env) start(t testing.TB, name, id string, input any) (*response, httpapi.Accepted) {
	t.Helper()
	in, err := json.Marshal(input)
	require.NoError(t, err)
	body, err := json.Marshal(map[string]any{"name": name, "id": id, "input": json.RawMessage(in)})
	require.NoError(t, err)
	r := e.do(t, http.MethodPost, "/api/v1/instances", string(body))
	require.Equal(t, http.StatusAccepted, r.status, "start %s: %s", name, r.body)
	var acc httpapi.Accepted
	r.json(t, &acc)
	return r, acc
}

// wait long-polls until the instance ends.
func (e *env) wait(t testing.TB, id string) httpapi.Instance {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r := e.do(t, http.MethodGet, "/api/v1/instances/"+id+"/wait?timeout=30s", "")
		var in httpapi.Instance
		if r.status == http.StatusOK {
			r.json(t, &in)
			return in
		}
		require.Equal(t, http.StatusAccepted, r.status, "wait %s: %s", id, r.body)
		require.True(t, time.Now().Before(deadline), "%s did not end", id)
	}
}
