package dashboard_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/dashboard"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/internal/devserver"
	"github.com/cloudbutton/cloudbutton/worker"
)

// The Temporal dev server is started by the first test that needs it
// (so that the package's other tests do not wait for one) and stopped by
// TestMain.
var dev struct {
	once sync.Once
	srv  *devserver.Server
	err  error
}

func stopDevServer() {
	if dev.srv != nil {
		dev.srv.Stop()
	}
}

// devServer returns the dev server, or skips t (naming the install
// command) when the temporal CLI is missing, except under CI (CI=true),
// where it fails: as internal/temporaltest does.
func devServer(t *testing.T) *devserver.Server {
	t.Helper()
	dev.once.Do(func() { dev.srv, dev.err = devserver.Start(context.Background(), devserver.Options{}) })
	switch {
	case errors.Is(dev.err, devserver.ErrNoCLI) && os.Getenv("CI") == "":
		t.Skip(dev.err)
	case dev.err != nil:
		t.Fatal(dev.err)
	}
	return dev.srv
}

// openTemporal opens a Temporal engine on the dev server, with a task
// queue of its own and a worker hosting the test workloads, both
// stopped in t.Cleanup.
func openTemporal(t *testing.T) *temporal.Engine {
	t.Helper()
	srv := devServer(t)
	ctx := context.Background()
	eng, err := temporal.Open(ctx, temporal.Options{HostPort: srv.HostPort, Namespace: srv.Namespace,
		TaskQueue: fmt.Sprintf("dashboard-%d", time.Now().UnixNano()), Logger: quietLogger()})
	require.NoError(t, err)
	w := worker.New(eng, worker.Options{Logger: quietLogger()})
	registerAll(w)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, w.Stop(ctx))
		require.NoError(t, eng.Close())
	})
	return eng
}

// TestPagesTemporal serves the dashboard over the Temporal engine and
// checks its pages and actions over HTTP (no browser).
func TestPagesTemporal(t *testing.T) {
	eng := openTemporal(t)
	startAndWait(t, eng, fanOut, 20, "t-fan-20")
	startAndWait(t, eng, failing, "fly", "t-fails")
	startAndWait(t, eng, parent, 3, "t-parent")
	ctx := testCtx(t)
	_, err := client.Start(ctx, eng, approval, "o1", client.WithInstanceID("t-waits"))
	require.NoError(t, err)
	waitStatus(t, eng, "t-waits", client.StatusRunning)
	base := serve(t, eng, dashboard.Options{})

	t.Run("list", func(t *testing.T) {
		r := get(t, base+"/")
		require.Equal(t, 200, r.Status, r.Body)
		for _, id := range []string{"t-fan-20", "t-fails", "t-parent", "t-waits"} {
			assert.Contains(t, r.Body, `data-instance="`+id+`"`)
		}
		r = get(t, base+"/"+fmtQuery("status", "Failed"))
		assert.Contains(t, r.Body, `data-instance="t-fails"`)
		assert.NotContains(t, r.Body, `data-instance="t-fan-20"`)
	})
	t.Run("paging", func(t *testing.T) {
		ids := walkPages(t, serve(t, eng, dashboard.Options{PageSize: 2})+"/")
		assert.Subset(t, ids, []string{"t-fan-20", "t-fails", "t-parent", "child-of-parent", "t-waits"})
		seen := map[string]bool{}
		for _, id := range ids {
			assert.False(t, seen[id], "%s twice", id)
			seen[id] = true
		}
	})
	t.Run("fan-out", func(t *testing.T) {
		r := get(t, base+"/instances/t-fan-20")
		require.Equal(t, 200, r.Status, r.Body)
		assert.Contains(t, r.Body, `id="status">Completed<`)
		assert.Contains(t, r.Body, "(Temporal's history)")
		assert.Contains(t, r.Body, "WorkflowExecutionStarted")
		assert.Contains(t, r.Body, "ActivityTaskCompleted")
		assert.Equal(t, 20, bars(r.Body))
	})
	t.Run("failure", func(t *testing.T) {
		r := get(t, base+"/instances/t-fails")
		require.Equal(t, 200, r.Status, r.Body)
		assert.Contains(t, r.Body, `id="status">Failed<`)
		assert.Contains(t, r.Body, "<strong>Broken</strong>")
	})
	t.Run("sub-orchestration links", func(t *testing.T) {
		r := get(t, base+"/instances/t-parent")
		require.Equal(t, 200, r.Status, r.Body)
		assert.Contains(t, r.Body, `<a class="child-link" href="/instances/child-of-parent">`)
		r = get(t, base+"/instances/child-of-parent")
		require.Equal(t, 200, r.Status, r.Body)
		assert.Contains(t, r.Body, `id="parent-link" href="/instances/t-parent"`)
	})
	t.Run("unknown instance", func(t *testing.T) {
		assert.Equal(t, 404, get(t, base+"/instances/t-nope").Status)
	})
	t.Run("suspend and resume", func(t *testing.T) {
		require.Equal(t, http.StatusSeeOther, post(t, base+"/instances/t-waits/suspend", url.Values{"confirm": {"yes"}}).Status)
		waitStatus(t, eng, "t-waits", client.StatusSuspended)
		assert.Contains(t, get(t, base+"/instances/t-waits").Body, `id="status">Suspended<`)
		require.Equal(t, http.StatusSeeOther, post(t, base+"/instances/t-waits/resume", url.Values{"confirm": {"yes"}}).Status)
		waitStatus(t, eng, "t-waits", client.StatusRunning)
	})
	t.Run("raise an event", func(t *testing.T) {
		r := post(t, base+"/instances/t-waits/raise", url.Values{"name": {"approval"}, "payload": {"true"}, "confirm": {"yes"}})
		require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
		st, err := eng.Wait(ctx, "t-waits")
		require.NoError(t, err)
		assert.Equal(t, client.StatusCompleted, st.RuntimeStatus)
		assert.Contains(t, get(t, base+"/instances/t-waits").Body, `id="status">Completed<`)
	})
}
