package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/server"
)

// FuzzAuth sends requests with arbitrary credentials (an Authorization
// header, a cookie, a query) to a server with a token. Only a request
// that carries the token (as a bearer token, or as ?token= on a GET or
// HEAD) or the cookie its login set gets past the guard; every other gets
// the one 401, whose body says nothing about the request.
func FuzzAuth(f *testing.F) {
	const tok = "fuzz-token"
	quiet := newQuiet()
	eng, err := embedded.Open(context.Background(), filepath.Join(f.TempDir(), "f.db"), embedded.Options{Logger: quiet})
	require.NoError(f, err)
	f.Cleanup(func() { _ = eng.Close() })
	h := server.New(eng, server.Options{Token: tok, Logger: quiet})

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/?token="+tok, nil))
	require.Equal(f, http.StatusSeeOther, rec.Code)
	cookie := rec.Result().Cookies()[0].Value

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/instances", nil))
	require.Equal(f, http.StatusUnauthorized, rec.Code)
	unauthorized := rec.Body.String()

	for _, s := range []struct{ method, target, auth, cookie string }{
		{"GET", "/api/v1/instances", "Bearer " + tok, ""},
		{"GET", "/api/v1/instances", "bearer  " + tok + " ", ""},
		{"GET", "/api/v1/instances", "Bearer " + tok[:4], ""},
		{"GET", "/api/v1/instances", "Basic " + tok, ""},
		{"GET", "/api/v1/instances?token=" + tok, "", ""},
		{"POST", "/api/v1/instances?token=" + tok, "", ""},
		{"GET", "/?token=" + tok + "x&token=" + tok, "", ""},
		{"GET", "/api/v1/instances", "", cookie},
		{"GET", "/api/v1/instances", "", tok},
		{"DELETE", "/api/v1/instances/a", "Bearer", ""},
	} {
		f.Add(s.method, s.target, s.auth, s.cookie)
	}
	f.Fuzz(func(t *testing.T, method, target, auth, cookieValue string) {
		req, err := http.NewRequest(method, "http://127.0.0.1"+target, nil)
		if err != nil || !strings.HasPrefix(req.URL.Path, "/") {
			t.Skip()
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if cookieValue != "" {
			req.AddCookie(&http.Cookie{Name: server.CookieName, Value: cookieValue})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusUnauthorized {
			if rec.Body.String() != unauthorized {
				t.Fatalf("a 401 that differs: %s", rec.Body)
			}
			return
		}
		carries := strings.Contains(req.Header.Get("Authorization"), tok) ||
			strings.Contains(req.URL.RawQuery, tok) || req.Header.Get("Cookie") != "" && strings.Contains(req.Header.Get("Cookie"), cookie)
		if !carries {
			t.Fatalf("%s %q (Authorization %q, cookie %q) got %d without the token", method, target, auth, cookieValue, rec.Code)
		}
	})
}
