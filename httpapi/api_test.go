package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/httpapi"
)

func TestAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		t.Run("StartStatusWaitHistoryPurge", func(t *testing.T) { testLifecycle(t, e) })
		t.Run("ApprovalFlow", func(t *testing.T) { testApproval(t, e) })
		t.Run("WaitTimesOutThenTerminate", func(t *testing.T) { testWaitTimeout(t, e) })
		t.Run("Failure", func(t *testing.T) { testFailure(t, e) })
		t.Run("SuspendResume", func(t *testing.T) { testSuspendResume(t, e) })
		t.Run("Paging", func(t *testing.T) { testPaging(t, e) })
	})
}

func testLifecycle(t *testing.T, e *env) {
	id := e.ids + "order-1"
	r, acc := e.start(t, echo.Name(), id, order{Item: "book", Qty: 2})
	want := httpapi.Links{
		Status:    "/api/v1/instances/" + id,
		Wait:      "/api/v1/instances/" + id + "/wait",
		History:   "/api/v1/instances/" + id + "/history",
		Events:    "/api/v1/instances/" + id + "/events/{name}",
		Terminate: "/api/v1/instances/" + id + "/terminate",
		Suspend:   "/api/v1/instances/" + id + "/suspend",
		Resume:    "/api/v1/instances/" + id + "/resume",
		Purge:     "/api/v1/instances/" + id,
	}
	assert.Equal(t, httpapi.Accepted{InstanceID: id, Links: want}, acc)
	assert.Equal(t, want.Status, r.header.Get("Location"))

	in := e.wait(t, id)
	assert.Equal(t, client.StatusCompleted, in.RuntimeStatus)
	assert.JSONEq(t, `{"item":"book","qty":2}`, string(in.Output), "the output is embedded as JSON")
	assert.JSONEq(t, `{"item":"book","qty":2}`, string(in.Input))
	assert.Equal(t, want, in.Links)

	r = e.do(t, http.MethodGet, acc.Links.Status, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	var st httpapi.Instance
	r.json(t, &st)
	assert.Equal(t, id, st.InstanceID)
	assert.Equal(t, echo.Name(), st.Name)
	assert.False(t, st.CompletedAt.IsZero())

	r = e.do(t, http.MethodGet, acc.Links.History, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.True(t, json.Valid(r.body), "the history is JSON")
	if e.engine == "embedded" {
		var h struct {
			Format string `json:"format"`
			Events []struct {
				Type string `json:"type"`
			} `json:"events"`
		}
		r.json(t, &h)
		assert.Equal(t, "cloudbutton.history/v1", h.Format, "the CLI's export format")
		assert.NotEmpty(t, h.Events)
	}

	r = e.do(t, http.MethodDelete, acc.Links.Purge, "")
	require.Equal(t, http.StatusNoContent, r.status, "%s", r.body)
	if e.engine == "temporal" {
		return // Temporal deletes in the background (tens of seconds on a dev server)
	}
	r = e.do(t, http.MethodGet, acc.Links.Status, "")
	assert.Equal(t, http.StatusNotFound, r.status, "purged")
}

func testApproval(t *testing.T, e *env) {
	id := e.ids + "approval-1"
	_, acc := e.start(t, approval.Name(), id, order{Item: "laptop"})
	// The event may arrive before the orchestration waits for it: it is
	// buffered, as in the approval pattern.
	r := e.do(t, http.MethodPost, strings.Replace(acc.Links.Events, "{name}", "approval", 1), "true")
	require.Equal(t, http.StatusAccepted, r.status, "%s", r.body)
	var ev httpapi.Accepted
	r.json(t, &ev)
	assert.Equal(t, id, ev.InstanceID)

	in := e.wait(t, id)
	assert.Equal(t, client.StatusCompleted, in.RuntimeStatus)
	assert.JSONEq(t, `"approved laptop"`, string(in.Output))

	r = e.do(t, http.MethodPost, "/api/v1/instances/"+id+"/events/approval", "false")
	assert.Equal(t, http.StatusConflict, r.status, "an event for an ended instance: %s", r.body)
	assert.Equal(t, httpapi.ProblemTypePrefix+"not-running", r.problem(t).Type)
}

func testWaitTimeout(t *testing.T, e *env) {
	id := e.ids + "forever-1"
	_, acc := e.start(t, forever.Name(), id, struct{}{})
	r := e.do(t, http.MethodGet, acc.Links.Wait+"?timeout=50ms", "")
	require.Equal(t, http.StatusAccepted, r.status, "the timeout passes first: %s", r.body)
	assert.Equal(t, acc.Links.Wait, r.header.Get("Location"))
	var in httpapi.Instance
	r.json(t, &in)
	assert.False(t, in.RuntimeStatus.Terminal(), "%s", in.RuntimeStatus)

	r = e.do(t, http.MethodGet, acc.Links.Wait+"?timeout=0", "")
	assert.Equal(t, http.StatusAccepted, r.status, "timeout=0 answers at once: %s", r.body)

	r = e.do(t, http.MethodPost, acc.Links.Terminate, `{"reason":"enough"}`)
	require.Equal(t, http.StatusAccepted, r.status, "%s", r.body)
	assert.Equal(t, acc.Links.Status, r.header.Get("Location"))
	in = e.wait(t, id)
	assert.Equal(t, client.StatusTerminated, in.RuntimeStatus)

	r = e.do(t, http.MethodPost, acc.Links.Terminate, "")
	assert.Equal(t, http.StatusConflict, r.status, "terminate an ended instance: %s", r.body)
}

func testFailure(t *testing.T, e *env) {
	id := e.ids + "failing-1"
	e.start(t, failing.Name(), id, struct{}{})
	in := e.wait(t, id)
	assert.Equal(t, client.StatusFailed, in.RuntimeStatus)
	require.NotNil(t, in.Failure)
	assert.Contains(t, in.Failure.Message, "boom")
}

func testSuspendResume(t *testing.T, e *env) {
	id := e.ids + "suspended-1"
	_, acc := e.start(t, forever.Name(), id, struct{}{})
	t.Cleanup(func() { e.do(t, http.MethodPost, acc.Links.Terminate, "") })
	r := e.do(t, http.MethodPost, acc.Links.Suspend, `{"reason":"maintenance"}`)
	require.Equal(t, http.StatusAccepted, r.status, "%s", r.body)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var in httpapi.Instance
		e.do(t, http.MethodGet, acc.Links.Status, "").json(t, &in)
		assert.Equal(c, client.StatusSuspended, in.RuntimeStatus)
	}, time.Minute, 20*time.Millisecond, "suspended (on Temporal, once the workflow has taken the signal)")
	r = e.do(t, http.MethodPost, acc.Links.Resume, "")
	require.Equal(t, http.StatusAccepted, r.status, "%s", r.body)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var in httpapi.Instance
		e.do(t, http.MethodGet, acc.Links.Status, "").json(t, &in)
		assert.Equal(c, client.StatusRunning, in.RuntimeStatus)
	}, time.Minute, 20*time.Millisecond, "resumed")
}

func testPaging(t *testing.T, e *env) {
	mine := map[string]bool{}
	for i := range 5 {
		_, acc := e.start(t, forever.Name(), e.ids+"paged-"+string(rune('a'+i)), struct{}{})
		mine[acc.InstanceID] = true
	}
	t.Cleanup(func() {
		for id := range mine {
			e.do(t, http.MethodPost, "/api/v1/instances/"+url.PathEscape(id)+"/terminate", "")
		}
	})
	walk := func() map[string]int {
		seen := map[string]int{}
		next := "/api/v1/instances?" + url.Values{"name": {forever.Name()}, "limit": {"2"}, "status": {"pending,running"}}.Encode()
		for pages := 0; next != ""; pages++ {
			require.Less(t, pages, 100)
			r := e.do(t, http.MethodGet, next, "")
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			var l httpapi.InstanceList
			r.json(t, &l)
			require.LessOrEqual(t, len(l.Instances), 2)
			for _, in := range l.Instances {
				seen[in.InstanceID]++
			}
			next = l.Next
			assert.Equal(t, next != "", l.NextPageToken != "", "a next link with a token")
		}
		return seen
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		seen := walk()
		for id := range mine {
			assert.Equal(c, 1, seen[id], "%s listed once", id)
		}
	}, time.Minute, 100*time.Millisecond)
}
