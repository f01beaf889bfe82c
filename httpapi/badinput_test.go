package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/httpapi"
)

// TestBadInput checks each refusal: its status, its problem type, and
// the field or limit it names.
func TestBadInput(t *testing.T) {
	const limit = 1024
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			e := newEnv(t, eng.name, eng.open(t), httpapi.Options{MaxBodyBytes: limit, Logger: quiet()})
			done := e.ids + "done"
			e.start(t, echo.Name(), done, order{Item: "x"})
			require.Equal(t, client.StatusCompleted, e.wait(t, done).RuntimeStatus)
			live := e.ids + "live"
			_, acc := e.start(t, forever.Name(), live, struct{}{})
			t.Cleanup(func() { e.do(t, http.MethodPost, acc.Links.Terminate, "") })
			big := `{"name":"` + echo.Name() + `","input":"` + strings.Repeat("x", limit) + `"}`
			inst := "/api/v1/instances"
			tests := []struct {
				name, method, path, body string
				headers                  []string
				status                   int
				kind, field              string
				detail                   string
				skip                     string // an engine it does not apply to
			}{
				{name: "unknown instance", method: "GET", path: inst + "/nope", status: 404, kind: "not-found", detail: `"nope"`},
				{name: "unknown instance, wait", method: "GET", path: inst + "/nope/wait?timeout=5s", status: 404, kind: "not-found"},
				{name: "unknown instance, history", method: "GET", path: inst + "/nope/history", status: 404, kind: "not-found"},
				{name: "unknown instance, event", method: "POST", path: inst + "/nope/events/go", body: "1", status: 404, kind: "not-found"},
				{name: "unknown instance, terminate", method: "POST", path: inst + "/nope/terminate", status: 404, kind: "not-found"},
				{name: "unknown instance, purge", method: "DELETE", path: inst + "/nope", status: 404, kind: "not-found"},
				{name: "malformed JSON", method: "POST", path: inst, body: `{oops}`, status: 400, kind: "bad-input", field: "body", detail: "at byte 2"},
				{name: "truncated JSON", method: "POST", path: inst, body: `{"name": `, status: 400, kind: "bad-input", field: "body", detail: "ends early"},
				{name: "wrong type", method: "POST", path: inst, body: `{"name": 7}`, status: 400, kind: "bad-input", field: "name", detail: "want a string"},
				{name: "wrong type of id", method: "POST", path: inst, body: `{"name": "x", "id": ["a"]}`, status: 400, kind: "bad-input", field: "id"},
				{name: "unknown field", method: "POST", path: inst, body: `{"name": "x", "nmae": 1}`, status: 400, kind: "bad-input", field: "nmae"},
				{name: "missing name", method: "POST", path: inst, body: `{"input": 1}`, status: 400, kind: "bad-input", field: "name"},
				{name: "not an object", method: "POST", path: inst, body: `[1]`, status: 400, kind: "bad-input", field: "body"},
				{name: "trailing data", method: "POST", path: inst, body: `{"name": "x"} {}`, status: 400, kind: "bad-input", field: "body"},
				{name: "empty body", method: "POST", path: inst, status: 400, kind: "bad-input", field: "body"},
				{name: "bad reuse", method: "POST", path: inst, body: `{"name": "x", "reuse": "sometimes"}`, status: 400, kind: "bad-input", field: "reuse"},
				{name: "bad startAt", method: "POST", path: inst, body: `{"name": "x", "startAt": "tomorrow"}`, status: 400, kind: "bad-input", field: "startAt"},
				{name: "oversized start", method: "POST", path: inst, body: big, status: 413, kind: "too-large", detail: "1024 bytes"},
				{name: "oversized event", method: "POST", path: inst + "/" + live + "/events/go", body: `"` + strings.Repeat("x", limit) + `"`, status: 413, kind: "too-large"},
				{name: "malformed event", method: "POST", path: inst + "/" + live + "/events/go", body: `{"a":`, status: 400, kind: "bad-input", field: "body"},
				{name: "bad reason", method: "POST", path: inst + "/" + live + "/terminate", body: `{"reason": 5}`, status: 400, kind: "bad-input", field: "reason"},
				{name: "bad status", method: "GET", path: inst + "?status=sleeping", status: 400, kind: "bad-input", field: "status"},
				{name: "zero limit", method: "GET", path: inst + "?limit=0", status: 400, kind: "bad-input", field: "limit"},
				{name: "huge limit", method: "GET", path: inst + "?limit=5000", status: 400, kind: "bad-input", field: "limit"},
				{name: "unknown parameter", method: "GET", path: inst + "?statuss=running", status: 400, kind: "bad-input", field: "statuss"},
				{name: "bad created_after", method: "GET", path: inst + "?created_after=yesterday", status: 400, kind: "bad-input", field: "created_after"},
				{name: "bad page token", method: "GET", path: inst + "?page_token=garbage", status: 400, kind: "bad-input", field: "page_token"},
				{name: "bad timeout", method: "GET", path: inst + "/" + live + "/wait?timeout=forever", status: 400, kind: "bad-input", field: "timeout"},
				{name: "timeout over the maximum", method: "GET", path: inst + "/" + live + "/wait?timeout=1h", status: 400, kind: "bad-input", field: "timeout", detail: "5m0s"},
				{name: "GET on an action", method: "GET", path: inst + "/" + live + "/terminate", status: 405, kind: "method-not-allowed", detail: "allowed: POST"},
				{name: "PUT on the instances", method: "PUT", path: inst, body: "{}", status: 405, kind: "method-not-allowed"},
				{name: "unknown route", method: "GET", path: "/api/v1/nope", status: 404, kind: "not-found", detail: "no such route"},
				{name: "id taken", method: "POST", path: inst, body: `{"name": "` + echo.Name() + `", "id": "` + done + `", "reuse": "reject"}`, status: 409, kind: "already-exists"},
				{name: "id of a live instance", method: "POST", path: inst, body: `{"name": "` + forever.Name() + `", "id": "` + live + `"}`, status: 409, kind: "already-exists"},
				{name: "event for an ended instance", method: "POST", path: inst + "/" + done + "/events/go", body: "1", status: 409, kind: "not-running"},
				{name: "purge a live instance", method: "DELETE", path: inst + "/" + live, status: 409, kind: "not-running"},
				{name: "unknown orchestrator", method: "POST", path: inst, body: `{"name": "no-such-orchestrator"}`, status: 400, kind: "unknown-name", detail: "no-such-orchestrator",
					skip: "temporal"}, // Temporal does not know its workers' names: the workflow waits
				{name: "cross-site POST", method: "POST", path: inst, body: `{"name": "` + echo.Name() + `"}`, headers: []string{"Sec-Fetch-Site: cross-site"}, status: 403, kind: "forbidden"},
				{name: "cross-origin POST", method: "POST", path: inst + "/" + live + "/terminate", headers: []string{"Origin: http://evil.example"}, status: 403, kind: "forbidden"},
				{name: "cross-origin DELETE", method: "DELETE", path: inst + "/" + done, headers: []string{"Origin: http://evil.example"}, status: 403, kind: "forbidden"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if tt.skip == eng.name {
						t.Skipf("not on %s", eng.name)
					}
					r := e.do(t, tt.method, tt.path, tt.body, tt.headers...)
					require.Equal(t, tt.status, r.status, "%s", r.body)
					p := r.problem(t)
					assert.Equal(t, httpapi.ProblemTypePrefix+tt.kind, p.Type)
					assert.Equal(t, tt.field, p.Field, "the field named: %s", p.Detail)
					assert.Contains(t, p.Detail, tt.detail)
					assert.NotEmpty(t, p.Title)
					if tt.status == 413 {
						assert.Equal(t, int64(limit), p.Limit, "413 names the limit")
						assert.Contains(t, p.Detail, "1024")
					}
					if tt.status == 405 {
						assert.NotEmpty(t, r.header.Get("Allow"))
					}
				})
			}
		})
	}
}
