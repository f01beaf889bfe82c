package dashboard_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/dashboard"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// TestMain stops the Temporal dev server if a test started one, and
// fails the run if goroutines outlive the tests: every engine, worker,
// server and browser the tests start must be stopped.
func TestMain(m *testing.M) {
	code := m.Run()
	stopDevServer()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// The workloads of the tests.
var (
	work = activity.New("work", func(_ context.Context, n int) (int, error) { return n * 2, nil })

	// fanOut calls work n times at once and sums the results.
	fanOut = orchestration.New("fan-out", func(ctx orchestration.Context, n int) (int, error) {
		fs := make([]orchestration.Future[int], n)
		for i := range fs {
			fs[i] = orchestration.Call(ctx, work, i)
		}
		out, err := orchestration.All(ctx, fs...).Await(ctx)
		sum := 0
		for _, v := range out {
			sum += v
		}
		return sum, err
	})

	// approval waits for an "approval" event and returns its payload.
	approval = orchestration.New("approval", func(ctx orchestration.Context, order string) (string, error) {
		orchestration.SetCustomStatus(ctx, map[string]string{"waiting": "approval"})
		ok, err := orchestration.WaitEvent[bool](ctx, "approval", 0).Await(ctx)
		if err != nil {
			return "", err
		}
		if !ok {
			return "rejected " + order, nil
		}
		return "approved " + order, nil
	})

	flaky = activity.New("flaky", func(ctx context.Context, _ struct{}) (int, error) {
		if info, _ := activity.InfoFrom(ctx); info.Attempt < 3 {
			return 0, errors.New("not yet")
		}
		return 3, nil
	})
	broken = activity.New("broken", func(_ context.Context, what string) (int, error) {
		return 0, activity.NewNonRetryableError("Broken", "cannot "+what)
	})

	// failing retries flaky into success, then fails on broken.
	failing = orchestration.New("failing", func(ctx orchestration.Context, what string) (int, error) {
		if _, err := orchestration.Call(ctx, flaky, struct{}{},
			orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond})).Await(ctx); err != nil {
			return 0, err
		}
		return orchestration.Call(ctx, broken, what).Await(ctx)
	})

	// parent runs fanOut as a child.
	parent = orchestration.New("parent", func(ctx orchestration.Context, n int) (int, error) {
		return orchestration.CallSub(ctx, fanOut, n, orchestration.WithInstanceID("child-of-parent")).Await(ctx)
	})
)

func registerAll(w *worker.Worker) {
	w.RegisterOrchestrators(fanOut, approval, failing, parent)
	w.RegisterActivities(work, flaky, broken)
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openEmbedded opens an embedded engine on a new file with a worker
// hosting the test workloads and what register adds, both stopped in
// t.Cleanup.
func openEmbedded(t testing.TB, register ...func(*worker.Worker)) *embedded.Engine {
	t.Helper()
	ctx := context.Background()
	eng, err := embedded.Open(ctx, filepath.Join(t.TempDir(), "app.db"), embedded.Options{Logger: quietLogger()})
	require.NoError(t, err)
	w := worker.New(eng, worker.Options{Logger: quietLogger()})
	registerAll(w)
	for _, r := range register {
		r(w)
	}
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, w.Stop(ctx))
		require.NoError(t, eng.Close())
	})
	return eng
}

// serve serves the dashboard over c on a loopback port, closed in
// t.Cleanup, and returns its URL.
func serve(t testing.TB, c client.Client, opts dashboard.Options) string {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	srv := httptest.NewServer(dashboard.New(c, opts))
	t.Cleanup(srv.Close)
	return srv.URL
}

// response is a fetched page.
type response struct {
	Status   int
	Body     string
	Header   http.Header
	Location string
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t testing.TB, u string) response {
	t.Helper()
	return do(t, http.MethodGet, u, nil, nil)
}

// post posts a form as the dashboard's own page does (same origin).
func post(t testing.TB, u string, form url.Values) response {
	t.Helper()
	return do(t, http.MethodPost, u, form, http.Header{"Sec-Fetch-Site": {"same-origin"}})
}

func do(t testing.TB, method, u string, form url.Values, h http.Header) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(testCtx(t), method, u, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := noRedirects.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{Status: resp.StatusCode, Body: string(b), Header: resp.Header, Location: resp.Header.Get("Location")}
}

// startAndWait starts o and waits until it ends.
func startAndWait[In, Out any](t testing.TB, c client.Client, o *orchestration.Orchestrator[In, Out], in In, id string) *client.Status {
	t.Helper()
	ctx := testCtx(t)
	_, err := client.Start(ctx, c, o, in, client.WithInstanceID(id))
	require.NoError(t, err)
	st, err := c.Wait(ctx, id)
	require.NoError(t, err)
	return st
}

// waitStatus polls until the instance has status want (the engine's Wait
// only waits for the end).
func waitStatus(t testing.TB, c client.Client, id string, want client.RuntimeStatus) {
	t.Helper()
	ctx := testCtx(t)
	for {
		st, err := c.Status(ctx, id)
		if err == nil && st.RuntimeStatus == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("instance %q never became %s (last: %v, %v)", id, want, st, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func countOf(body, needle string) int { return strings.Count(body, needle) }

func fmtQuery(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return fmt.Sprint("?", v.Encode())
}
