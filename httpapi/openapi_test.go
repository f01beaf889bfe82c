package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/httpapi"
)

func loadOpenAPI(t testing.TB, b []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(b)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()), "a valid OpenAPI document")
	return doc
}

// TestOpenAPIListsTheRoutes checks that the document describes every
// route served, and serves every route it describes: each operation of
// the document is answered by its handler (not the 404 or 405 of an
// unknown route), and each method of a described path that the document
// does not list is answered 405.
func TestOpenAPIListsTheRoutes(t *testing.T) {
	c := openEmbedded(t)
	h := httpapi.New(c, httpapi.Options{Logger: quiet()})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	doc := loadOpenAPI(t, rec.Body.Bytes())
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	require.Len(t, doc.Servers, 1)
	assert.Equal(t, "/api/v1", doc.Servers[0].URL)

	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	var described []string
	for path, item := range doc.Paths.Map() {
		concrete := strings.NewReplacer("{id}", "some-id", "{name}", "some-event").Replace(path)
		for _, m := range methods {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(m, "/api/v1"+concrete, strings.NewReader("{}")))
			var p httpapi.Problem
			_ = json.Unmarshal(rec.Body.Bytes(), &p)
			unrouted := p.Type == httpapi.ProblemTypePrefix+"method-not-allowed" ||
				(p.Type == httpapi.ProblemTypePrefix+"not-found" && strings.Contains(p.Detail, "no such route"))
			if item.GetOperation(m) != nil {
				described = append(described, m+" "+path)
				assert.False(t, unrouted, "%s %s is described but not served: %s", m, path, rec.Body)
			} else {
				assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, "%s %s is served but not described: %s", m, path, rec.Body)
			}
		}
	}
	slices.Sort(described)
	served := httpapi.Routes()
	slices.Sort(served)
	assert.Equal(t, served, described, "the document's operations are the routes served")
}

// TestOpenAPIBasePath checks that the document's server URL follows
// Options.BasePath, and so do the links.
func TestOpenAPIBasePath(t *testing.T) {
	c := openEmbedded(t)
	h := httpapi.New(c, httpapi.Options{BasePath: "/ops/api/v1/", Logger: quiet()})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	doc := loadOpenAPI(t, rec.Body.Bytes())
	assert.Equal(t, "/ops/api/v1", doc.Servers[0].URL)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/instances", strings.NewReader(`{"name":"`+echo.Name()+`","id":"a b"}`)))
	require.Equal(t, http.StatusAccepted, rec.Code, "%s", rec.Body)
	assert.Equal(t, "/ops/api/v1/instances/a%20b", rec.Header().Get("Location"), "ids are path-escaped")
}

// TestResponsesMatchTheSchemas validates answers of each kind against the
// document's schemas (JSON Schema 2020-12).
func TestResponsesMatchTheSchemas(t *testing.T) {
	e := newEnv(t, "embedded", openEmbedded(t), httpapi.Options{Logger: quiet()})
	doc := loadOpenAPI(t, httpapi.OpenAPI())
	check := func(schema string, body []byte) {
		t.Helper()
		var v any
		require.NoError(t, json.Unmarshal(body, &v))
		s := doc.Components.Schemas[schema]
		require.NotNil(t, s, schema)
		assert.NoError(t, s.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()), "%s: %s", schema, body)
	}
	r, acc := e.start(t, failing.Name(), e.ids+"f", struct{}{})
	check("Accepted", r.body)
	in := e.wait(t, acc.InstanceID)
	require.NotNil(t, in.Failure)
	check("Instance", e.do(t, "GET", acc.Links.Status, "").body)
	e.start(t, forever.Name(), e.ids+"w", struct{}{})
	check("Instance", e.do(t, "GET", "/api/v1/instances/"+e.ids+"w/wait?timeout=0", "").body)
	check("InstanceList", e.do(t, "GET", "/api/v1/instances?limit=1", "").body)
	check("Problem", e.do(t, "GET", "/api/v1/instances/nope", "").body)
	check("Problem", e.do(t, "POST", "/api/v1/instances", `{"name":1}`).body)
}
