package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/httpapi"
)

// FuzzAPI sends arbitrary requests (a method, a path with its query, a
// body) to every route on the embedded engine, in-process. Every answer
// must be one the API documents: a 5xx other than 501 is a failure, an
// error is a well-formed problem+json whose status is the answer's, and
// a success is JSON. Bodies are bounded (4 KiB) and waits short (10 ms),
// so no input allocates or blocks without bound.
func FuzzAPI(f *testing.F) {
	seeds := []struct{ method, path, body string }{
		{"POST", "/api/v1/instances", `{"name":"api.echo","id":"a","input":{"item":"x","qty":1}}`},
		{"POST", "/api/v1/instances", `{"name":"api.echo","reuse":"reject","startAt":"2030-01-01T00:00:00Z"}`},
		{"POST", "/api/v1/instances", `{"name":7}`},
		{"POST", "/api/v1/instances", `{"name":"x","nmae":1}`},
		{"POST", "/api/v1/instances", `[1] {}`},
		{"GET", "/api/v1/instances?status=running,completed&name=api.echo&limit=2", ""},
		{"GET", "/api/v1/instances?created_after=2020-01-01T00:00:00Z&page_token=e1.AAAA", ""},
		{"GET", "/api/v1/instances/a", ""},
		{"GET", "/api/v1/instances/a/history", ""},
		{"GET", "/api/v1/instances/a/wait?timeout=1ms", ""},
		{"POST", "/api/v1/instances/a/events/approval", `true`},
		{"POST", "/api/v1/instances/a/events/%FF", `{"a":`},
		{"POST", "/api/v1/instances/a/terminate", `{"reason":"r"}`},
		{"POST", "/api/v1/instances/a/suspend", ``},
		{"POST", "/api/v1/instances/a/resume", `{"reason":5}`},
		{"DELETE", "/api/v1/instances/a", ""},
		{"GET", "/api/v1/openapi.json", ""},
		{"PUT", "/api/v1/instances/a%2Fb/terminate", "{}"},
		{"GET", "/api/v1/../instances", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	eng, err := embedded.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"), embedded.Options{Logger: quiet()})
	require.NoError(f, err)
	f.Cleanup(func() { _ = eng.Close() })
	h := httpapi.New(eng, httpapi.Options{MaxBodyBytes: 4 << 10, DefaultWait: 10 * time.Millisecond, MaxWait: 10 * time.Millisecond, Logger: quiet()})
	// 301 and 307 are http.ServeMux's redirects of unclean paths.
	documented := map[int]bool{200: true, 202: true, 204: true, 301: true, 307: true,
		400: true, 403: true, 404: true, 405: true, 409: true, 413: true, 501: true}

	f.Fuzz(func(t *testing.T, method, path, body string) {
		req, err := http.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
		if err != nil || req.URL.Path == "" || !strings.HasPrefix(req.URL.Path, "/api/v1/") {
			t.Skip()
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !documented[rec.Code] {
			t.Fatalf("%s %s: status %d: %s", method, path, rec.Code, rec.Body)
		}
		switch {
		case rec.Code == 301 || rec.Code == 307:
			if rec.Header().Get("Location") == "" {
				t.Fatalf("%s %s: %d without a Location", method, path, rec.Code)
			}
		case rec.Code >= 400:
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("%s %s: %d with Content-Type %q", method, path, rec.Code, ct)
			}
			var p httpapi.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || !strings.HasPrefix(p.Type, httpapi.ProblemTypePrefix) || p.Title == "" {
				t.Fatalf("%s %s: %d: a bad problem (%v): %s", method, path, rec.Code, err, rec.Body)
			}
		case rec.Code == 204:
			if rec.Body.Len() != 0 {
				t.Fatalf("%s %s: 204 with a body", method, path)
			}
		case method != http.MethodHead && !json.Valid(rec.Body.Bytes()):
			t.Fatalf("%s %s: %d: not JSON: %s", method, path, rec.Code, rec.Body)
		}
	})
}
