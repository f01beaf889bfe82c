package dashboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/dashboard"
)

// bars counts the attempt bars of a page's timeline.
func bars(body string) int { return countOf(body, `<rect class="bar `) }

func TestPagesEmbedded(t *testing.T) {
	eng := openEmbedded(t)
	startAndWait(t, eng, fanOut, 20, "fan-20")
	startAndWait(t, eng, failing, "fly", "fails-1")
	startAndWait(t, eng, parent, 3, "parent-1")
	ctx := testCtx(t)
	_, err := client.Start(ctx, eng, approval, "order-7", client.WithInstanceID("waits-1"))
	require.NoError(t, err)
	waitStatus(t, eng, "waits-1", client.StatusRunning)
	_, err = client.Start(ctx, eng, approval, "later", client.WithInstanceID("later-1"), client.WithStartAt(time.Now().Add(time.Hour)))
	require.NoError(t, err)
	base := serve(t, eng, dashboard.Options{})

	tests := []struct {
		name     string
		path     string
		status   int
		contains []string
		absent   []string
		check    func(t *testing.T, body string)
	}{
		{name: "list", path: "/", status: 200,
			contains: []string{`data-instance="fan-20"`, `data-instance="fails-1"`, `data-instance="waits-1"`, `data-instance="child-of-parent"`,
				`data-status="Completed"`, `child of <a href="/instances/parent-1">parent-1</a>`}},
		{name: "list by status", path: "/" + fmtQuery("status", "Failed"), status: 200,
			contains: []string{`data-instance="fails-1"`}, absent: []string{`data-instance="fan-20"`}},
		{name: "list by statuses, comma separated", path: "/" + fmtQuery("status", "failed,running"), status: 200,
			contains: []string{`data-instance="fails-1"`, `data-instance="waits-1"`}, absent: []string{`data-instance="fan-20"`}},
		{name: "list by name", path: "/" + fmtQuery("name", "fan-out"), status: 200,
			contains: []string{`data-instance="fan-20"`, `data-instance="child-of-parent"`}, absent: []string{`data-instance="fails-1"`}},
		{name: "list created after now", path: "/" + fmtQuery("created_after", time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04")), status: 200,
			contains: []string{"No instances match."}},
		{name: "list created after a date", path: "/" + fmtQuery("created_after", "2000-01-01"), status: 200,
			contains: []string{`data-instance="fan-20"`}},
		{name: "search by id", path: "/" + fmtQuery("id", "fan-20"), status: http.StatusSeeOther},
		{name: "search by unknown id", path: "/" + fmtQuery("id", "nope"), status: 404, contains: []string{`no instance with id &#34;nope&#34;`}},
		{name: "bad status", path: "/" + fmtQuery("status", "Sleeping"), status: 400, contains: []string{`field &#34;status&#34;`, "Sleeping"}},
		{name: "bad created_after", path: "/" + fmtQuery("created_after", "yesterday"), status: 400, contains: []string{`field &#34;created_after&#34;`}},
		{name: "bad page token", path: "/" + fmtQuery("page_token", "x"), status: 400, contains: []string{`field &#34;page_token&#34;`, "malformed page token"}},
		{name: "unknown page", path: "/nowhere", status: 404},
		{name: "unknown instance", path: "/instances/nope", status: 404, contains: []string{"no instance with id"}},
		{name: "fan-out", path: "/instances/fan-20", status: 200,
			contains: []string{`id="status">Completed<`, "<h2>Input</h2>", `<pre class="payload">20</pre>`, `<pre class="payload">380</pre>`,
				"OrchestrationCompleted", `<svg class="timeline"`},
			check: func(t *testing.T, body string) {
				assert.Equal(t, 20, bars(body))
				assert.Contains(t, body, "20 attempts of 20 calls")
			}},
		{name: "failure with stack and retries", path: "/instances/fails-1", status: 200,
			contains: []string{`id="status">Failed<`, "<strong>Broken</strong>: activity &#34;broken&#34; failed: Broken: cannot fly", "in activity <code>broken</code>", "ActivityFailed", "attempt 3"},
			check: func(t *testing.T, body string) {
				assert.Equal(t, 4, bars(body), "three attempts of flaky, one of broken")
				assert.Equal(t, 2, countOf(body, `class="bar a-failed retried`), "flaky's first two attempts")
				assert.Equal(t, 1, countOf(body, `class="bar a-completed retried`), "flaky's third")
				assert.Contains(t, body, "not yet", "an attempt's failure is in its tooltip")
				assert.NotContains(t, body, "From the history:", "the client lists the attempts")
			}},
		{name: "parent links to child", path: "/instances/parent-1", status: 200,
			contains: []string{`<a class="child-link" href="/instances/child-of-parent">child-of-parent</a>`, "SubOrchestrationScheduled"}},
		{name: "child links to parent", path: "/instances/child-of-parent", status: 200,
			contains: []string{`id="parent-link" href="/instances/parent-1"`}},
		{name: "running instance is live", path: "/instances/waits-1", status: 200,
			contains: []string{`id="status">Running<`, `data-terminal="false"`, `data-live-url="/instances/waits-1/live.json?attempts=1"`, `&#34;waiting&#34;: &#34;approval&#34;`}},
		{name: "scheduled start", path: "/instances/later-1", status: 200,
			contains: []string{`id="status">Pending<`, "0 events", "No activity attempts."}, absent: []string{`class="warn"`}},
		{name: "history export", path: "/instances/fan-20/history.json", status: 200, contains: []string{`"format": "cloudbutton.history/v1"`}},
		{name: "history export of an unknown instance", path: "/instances/nope/history.json", status: 404},
		{name: "asset", path: "/static/dashboard.js", status: 200, contains: []string{"DOMParser"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, base+tc.path)
			require.Equal(t, tc.status, r.Status, r.Body)
			for _, s := range tc.contains {
				assert.Contains(t, r.Body, s)
			}
			for _, s := range tc.absent {
				assert.NotContains(t, r.Body, s)
			}
			if tc.check != nil {
				tc.check(t, r.Body)
			}
		})
	}

	t.Run("security headers", func(t *testing.T) {
		r := get(t, base+"/")
		assert.Contains(t, r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
		assert.Contains(t, r.Header.Get("Content-Security-Policy"), "script-src 'self'")
		assert.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
		assert.NotContains(t, r.Body, "<script>", "no inline script")
		assert.NotContains(t, r.Body, "style=", "no inline style (the CSP forbids it)")
	})
	t.Run("counts", func(t *testing.T) {
		r := get(t, base+"/counts.json")
		require.Equal(t, 200, r.Status)
		var got struct {
			Counts map[string]struct{ Count int } `json:"counts"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.Body), &got))
		assert.Equal(t, 3, got.Counts["Completed"].Count) // fan-20, parent-1 and its child
		assert.Equal(t, 1, got.Counts["Failed"].Count)
		assert.Equal(t, 1, got.Counts["Running"].Count)
		r = get(t, base+"/counts.json"+fmtQuery("name", "fan-out"))
		require.NoError(t, json.Unmarshal([]byte(r.Body), &got))
		assert.Equal(t, 2, got.Counts["Completed"].Count)
		assert.Equal(t, 400, get(t, base+"/counts.json"+fmtQuery("status", "x")).Status)
	})
	t.Run("live", func(t *testing.T) {
		r := get(t, base+"/instances/waits-1/live.json?attempts=1")
		require.Equal(t, 200, r.Status)
		var live struct {
			Status   string `json:"status"`
			Terminal bool   `json:"terminal"`
			Version  string `json:"version"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.Body), &live))
		assert.Equal(t, "Running", live.Status)
		assert.False(t, live.Terminal)
		assert.NotEmpty(t, live.Version)
		assert.Equal(t, 404, get(t, base+"/instances/nope/live.json").Status)
		// the page's version is live.json's, so an unchanged instance is not refreshed
		page := get(t, base+"/instances/waits-1").Body
		assert.Contains(t, page, `data-version="`+live.Version+`"`)
		var withAttempts, without struct{ Version string }
		require.NoError(t, json.Unmarshal([]byte(get(t, base+"/instances/fan-20/live.json?attempts=1").Body), &withAttempts))
		assert.Contains(t, get(t, base+"/instances/fan-20").Body, `data-version="`+withAttempts.Version+`"`)
		require.NoError(t, json.Unmarshal([]byte(get(t, base+"/instances/fan-20/live.json").Body), &without))
		assert.True(t, strings.HasPrefix(withAttempts.Version, without.Version+"/"), "%q, %q", withAttempts.Version, without.Version)
	})
	t.Run("search redirects to the instance", func(t *testing.T) {
		assert.Equal(t, "/instances/fan-20", get(t, base+"/"+fmtQuery("id", "fan-20")).Location)
	})
}

func TestPaging(t *testing.T) {
	eng := openEmbedded(t)
	for _, id := range []string{"p1", "p2", "p3", "p4", "p5"} {
		startAndWait(t, eng, fanOut, 1, id)
	}
	base := serve(t, eng, dashboard.Options{PageSize: 2})
	assert.Equal(t, []string{"p5", "p4", "p3", "p2", "p1"}, walkPages(t, base+"/"))
	assert.Equal(t, []string{"p5", "p4"}, walkPages(t, base+"/"+fmtQuery("name", "fan-out"))[:2], "the filter is kept")
}

// walkPages follows the list's "Older" links from u and returns the ids
// of every page, in order.
func walkPages(t *testing.T, u string) []string {
	t.Helper()
	var seen []string
	rowID := regexp.MustCompile(`data-instance="([^"]+)"`)
	nextLink := regexp.MustCompile(`href="([^"]+)" id="next-page"`)
	base := u[:strings.Index(u[len("http://"):], "/")+len("http://")]
	for range 100 {
		r := get(t, u)
		require.Equal(t, 200, r.Status, r.Body)
		for _, m := range rowID.FindAllStringSubmatch(r.Body, -1) {
			seen = append(seen, m[1])
		}
		m := nextLink.FindStringSubmatch(r.Body)
		if m == nil {
			return seen
		}
		u = base + strings.ReplaceAll(m[1], "&amp;", "&")
	}
	t.Fatal("more than 100 pages")
	return nil
}

func TestActions(t *testing.T) {
	eng := openEmbedded(t)
	ctx := testCtx(t)
	base := serve(t, eng, dashboard.Options{})
	start := func(id string) {
		_, err := client.Start(ctx, eng, approval, id, client.WithInstanceID(id))
		require.NoError(t, err)
		waitStatus(t, eng, id, client.StatusRunning)
	}

	t.Run("raise asks for confirmation first", func(t *testing.T) {
		start("a1")
		r := post(t, base+"/instances/a1/raise", url.Values{"name": {"approval"}, "payload": {"true"}})
		require.Equal(t, 200, r.Status, r.Body)
		assert.Contains(t, r.Body, `id="confirm-form"`)
		assert.Contains(t, r.Body, `name="confirm" value="yes"`)
		st, err := eng.Status(ctx, "a1")
		require.NoError(t, err)
		assert.Equal(t, client.StatusRunning, st.RuntimeStatus, "nothing raised before the confirmation")

		r = post(t, base+"/instances/a1/raise", url.Values{"name": {"approval"}, "payload": {" true "}, "confirm": {"yes"}})
		require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
		assert.Equal(t, "/instances/a1?done=raise", r.Location)
		st, err = eng.Wait(ctx, "a1")
		require.NoError(t, err)
		assert.Equal(t, client.StatusCompleted, st.RuntimeStatus)
		assert.JSONEq(t, `"approved a1"`, string(st.Output))
		assert.Contains(t, get(t, base+r.Location).Body, "Event raised.")
	})
	t.Run("raise on an ended instance is a conflict", func(t *testing.T) {
		r := post(t, base+"/instances/a1/raise", url.Values{"name": {"approval"}, "confirm": {"yes"}})
		assert.Equal(t, http.StatusConflict, r.Status, r.Body)
	})
	t.Run("terminate", func(t *testing.T) {
		start("a2")
		r := post(t, base+"/instances/a2/terminate", url.Values{"reason": {"test"}, "confirm": {"yes"}})
		require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
		st, err := eng.Wait(ctx, "a2")
		require.NoError(t, err)
		assert.Equal(t, client.StatusTerminated, st.RuntimeStatus)
	})
	t.Run("suspend and resume", func(t *testing.T) {
		start("a3")
		require.Equal(t, http.StatusSeeOther, post(t, base+"/instances/a3/suspend", url.Values{"confirm": {"yes"}}).Status)
		waitStatus(t, eng, "a3", client.StatusSuspended)
		assert.Contains(t, get(t, base+"/instances/a3").Body, `id="status">Suspended<`)
		require.Equal(t, http.StatusSeeOther, post(t, base+"/instances/a3/resume", url.Values{"confirm": {"yes"}}).Status)
		waitStatus(t, eng, "a3", client.StatusRunning)
	})
	t.Run("purge", func(t *testing.T) {
		r := post(t, base+"/instances/a2/purge", url.Values{"confirm": {"yes"}})
		require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
		assert.Equal(t, "/?purged=a2", r.Location)
		assert.Contains(t, get(t, base+r.Location).Body, "Purged &#34;a2&#34;.")
		assert.Equal(t, 404, get(t, base+"/instances/a2").Status)
	})

	bad := []struct {
		name, path string
		form       url.Values
		status     int
		field      string
	}{
		{"payload not JSON", "/instances/a3/raise", url.Values{"name": {"approval"}, "payload": {"{approved"}, "confirm": {"yes"}}, 400, "payload"},
		{"two payloads", "/instances/a3/raise", url.Values{"name": {"approval"}, "payload": {"1 2"}, "confirm": {"yes"}}, 400, "payload"},
		{"no event name", "/instances/a3/raise", url.Values{"payload": {"1"}, "confirm": {"yes"}}, 400, "name"},
		{"event name too long", "/instances/a3/raise", url.Values{"name": {strings.Repeat("x", 2000)}, "confirm": {"yes"}}, 400, "name"},
		{"reason too long", "/instances/a3/terminate", url.Values{"reason": {strings.Repeat("x", 5000)}, "confirm": {"yes"}}, 400, "reason"},
		{"unknown instance", "/instances/nope/terminate", url.Values{"confirm": {"yes"}}, 404, ""},
		{"unknown action", "/instances/a3/explode", url.Values{"confirm": {"yes"}}, 404, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, base+tc.path, tc.form)
			require.Equal(t, tc.status, r.Status, r.Body)
			if tc.field != "" {
				assert.Contains(t, r.Body, `field &#34;`+tc.field+`&#34;`)
			}
		})
	}

	t.Run("oversized form", func(t *testing.T) {
		r := post(t, base+"/instances/a3/raise", url.Values{"name": {"approval"}, "payload": {`"` + strings.Repeat("x", 9<<20) + `"`}})
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
		assert.Contains(t, r.Body, "8388608 bytes")
	})
	t.Run("GET does not act", func(t *testing.T) {
		assert.Equal(t, http.StatusMethodNotAllowed, get(t, base+"/instances/a3/terminate").Status)
	})
	csrf := []struct {
		name   string
		header http.Header
		status int
	}{
		{"cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403},
		{"same-site, other origin", http.Header{"Sec-Fetch-Site": {"same-site"}}, 403},
		{"foreign Origin without Sec-Fetch-Site", http.Header{"Origin": {"http://evil.example"}}, 403},
		{"same origin", http.Header{"Sec-Fetch-Site": {"same-origin"}}, 303},
	}
	for _, tc := range csrf {
		t.Run("CSRF "+tc.name, func(t *testing.T) {
			r := do(t, http.MethodPost, base+"/instances/a3/suspend", url.Values{"confirm": {"yes"}}, tc.header)
			assert.Equal(t, tc.status, r.Status, r.Body)
		})
	}
	st, err := eng.Status(context.Background(), "a3")
	require.NoError(t, err)
	assert.Equal(t, client.StatusSuspended, st.RuntimeStatus, "only the same-origin suspend went through")
}

// noSuspend is an engine without suspend, as a client may be.
type noSuspend struct{ client.Client }

func (noSuspend) Suspend(context.Context, string, string) error {
	return fmt.Errorf("test: no suspend here: %w", errors.ErrUnsupported)
}

func TestUnsupportedAction(t *testing.T) {
	eng := openEmbedded(t)
	ctx := testCtx(t)
	_, err := client.Start(ctx, eng, approval, "u1", client.WithInstanceID("u1"))
	require.NoError(t, err)
	base := serve(t, noSuspend{eng}, dashboard.Options{})
	r := post(t, base+"/instances/u1/suspend", url.Values{"confirm": {"yes"}})
	assert.Equal(t, http.StatusNotImplemented, r.Status)
	assert.Contains(t, r.Body, "no suspend here")
}

func TestEscapesUserData(t *testing.T) {
	eng := openEmbedded(t)
	ctx := testCtx(t)
	const evil = `<script>alert("x")</script>'"&`
	id := `id-` + evil
	_, err := client.Start(ctx, eng, approval, evil, client.WithInstanceID(id))
	require.NoError(t, err)
	waitStatus(t, eng, id, client.StatusRunning)
	require.NoError(t, client.RaiseEvent(ctx, eng, id, "other"+evil, 1))
	base := serve(t, eng, dashboard.Options{})
	for _, p := range []string{"/", "/instances/" + url.PathEscape(id), "/" + fmtQuery("name", evil), "/" + fmtQuery("id", evil), "/" + fmtQuery("status", evil)} {
		r := get(t, base+p)
		assert.NotContains(t, r.Body, "<script>alert", p)
		assert.NotContains(t, r.Body, `alert("x")`, p)
	}
}

// TestLazyHistory: an instance with more calls than the history table
// shows has its history on a page of its own, which its page links to.
func TestLazyHistory(t *testing.T) {
	eng := openEmbedded(t)
	startAndWait(t, eng, fanOut, 30, "lazy-30")
	startAndWait(t, eng, parent, 30, "lazy-parent")
	base := serve(t, eng, dashboard.Options{MaxHistoryRows: 20})

	r := get(t, base+"/instances/lazy-30")
	require.Equal(t, 200, r.Status, r.Body)
	assert.Equal(t, 30, bars(r.Body))
	assert.Contains(t, r.Body, `data-lazy="/instances/lazy-30/history"`)
	assert.Contains(t, r.Body, "30 activity calls: the history loads on its own")
	assert.NotContains(t, r.Body, "ActivityScheduled", "no history on the page")

	r = get(t, base+"/instances/lazy-30/history")
	require.Equal(t, 200, r.Status, r.Body)
	assert.Contains(t, r.Body, `id="history"`)
	assert.Contains(t, r.Body, "62 events")
	assert.Equal(t, 20, countOf(r.Body, `<td class="etype">`), "the first and last 10 events")
	assert.Contains(t, r.Body, `href="/instances/lazy-30/history?history=all"`)
	assert.Equal(t, 62, countOf(get(t, base+"/instances/lazy-30/history?history=all").Body, `<td class="etype">`))
	assert.Equal(t, 62, countOf(get(t, base+"/instances/lazy-30?history=all").Body, `<td class="etype">`), "the page itself, whole")

	r = get(t, base+"/instances/lazy-parent")
	assert.NotContains(t, r.Body, `data-lazy=`, "a small instance: history inline")
	assert.Contains(t, r.Body, `<a class="child-link" href="/instances/child-of-parent">child-of-parent</a>`)
	r = get(t, base+"/instances/lazy-parent/history")
	assert.Contains(t, r.Body, `<a class="child-link" href="/instances/child-of-parent">child-of-parent</a>`)
	assert.Equal(t, 404, get(t, base+"/instances/nope/history").Status)
}

// TestBasePath mounts the dashboard below the root, as a server that
// serves other things does.
func TestBasePath(t *testing.T) {
	eng := openEmbedded(t)
	startAndWait(t, eng, parent, 2, "bp-parent")
	mux := http.NewServeMux()
	mux.Handle("/dash/", http.StripPrefix("/dash", dashboard.New(eng, dashboard.Options{BasePath: "/dash/", Logger: quietLogger()})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	r := get(t, srv.URL+"/dash/")
	require.Equal(t, 200, r.Status, r.Body)
	assert.Contains(t, r.Body, `href="/dash/instances/bp-parent"`)
	assert.Contains(t, r.Body, `src="/dash/static/dashboard.js?v=`)
	assert.Contains(t, r.Body, `data-counts-url="/dash/counts.json?"`)
	r = get(t, srv.URL+"/dash/instances/bp-parent")
	require.Equal(t, 200, r.Status, r.Body)
	assert.Contains(t, r.Body, `<a class="child-link" href="/dash/instances/child-of-parent">`)
	assert.Contains(t, r.Body, `action="/dash/instances/bp-parent/purge"`)
	assert.Equal(t, 200, get(t, srv.URL+"/dash/static/dashboard.css").Status)
	assert.Equal(t, "/dash/instances/bp-parent", get(t, srv.URL+"/dash/"+fmtQuery("id", "bp-parent")).Location)
	r = post(t, srv.URL+"/dash/instances/bp-parent/purge", url.Values{"confirm": {"yes"}})
	assert.Equal(t, "/dash/?purged=bp-parent", r.Location)
}
