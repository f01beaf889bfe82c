package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const token = "s3cret-token"

// serve starts the server of a new embedded engine on 127.0.0.1 and
// returns its URL and an HTTP client that follows no redirects.
func serve(t *testing.T, opts server.Options) (string, *http.Client) {
	t.Helper()
	quiet := newQuiet()
	eng, err := embedded.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), embedded.Options{Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, eng.Close()) })
	opts.Logger = quiet
	srv := httptest.NewServer(server.New(eng, opts))
	t.Cleanup(srv.Close)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return srv.URL, &http.Client{Transport: tr, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func newQuiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, hc *http.Client, method, url, host, body string, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if host != "" {
		req.Host = host
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func TestToken(t *testing.T) {
	url, hc := serve(t, server.Options{Token: token})
	list := url + "/api/v1/instances"

	// A browser's first visit: ?token= sets the cookie and redirects.
	login := do(t, hc, "GET", list+"?limit=5&token="+token, "", "")
	require.Equal(t, http.StatusSeeOther, login.status, login.body)
	assert.Equal(t, "./instances?limit=5", login.header.Get("Location"), "the same URL without the token, relative")
	resp := http.Response{Header: login.header}
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.Equal(t, server.CookieName, c.Name)
	assert.True(t, c.HttpOnly, "HttpOnly")
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite, "SameSite=Strict")
	assert.NotContains(t, c.Value, token, "the cookie is not the token")
	cookie := "Cookie: " + c.Name + "=" + c.Value

	root := do(t, hc, "GET", url+"/?token="+token, "", "")
	assert.Equal(t, "./", root.header.Get("Location"))

	tests := []struct {
		name, method, path string
		headers            []string
		status             int
	}{
		{"no token", "GET", "/api/v1/instances", nil, 401},
		{"no token, a page", "GET", "/", nil, 401},
		{"no token, the OpenAPI document", "GET", "/api/v1/openapi.json", nil, 401},
		{"no token, an action", "POST", "/api/v1/instances/x/terminate", nil, 401},
		{"wrong bearer", "GET", "/api/v1/instances", []string{"Authorization: Bearer nope"}, 401},
		{"bearer with a prefix of the token", "GET", "/api/v1/instances", []string{"Authorization: Bearer " + token[:5]}, 401},
		{"basic auth", "GET", "/api/v1/instances", []string{"Authorization: Basic " + token}, 401},
		{"wrong ?token=", "GET", "/api/v1/instances?token=nope", nil, 401},
		{"?token= on a POST", "POST", "/api/v1/instances/x/terminate?token=" + token, nil, 401},
		{"wrong cookie", "GET", "/api/v1/instances", []string{"Cookie: " + server.CookieName + "=" + token}, 401},
		{"wrong bearer beats a good cookie", "GET", "/api/v1/instances", []string{cookie, "Authorization: Bearer nope"}, 401},
		{"bearer", "GET", "/api/v1/instances", []string{"Authorization: Bearer " + token}, 200},
		{"bearer, lower-case scheme", "GET", "/api/v1/instances", []string{"Authorization: bearer " + token}, 200},
		{"cookie", "GET", "/api/v1/instances", []string{cookie}, 200},
		{"cookie, an action on an unknown instance", "POST", "/api/v1/instances/x/terminate", []string{cookie}, 404},
		{"any Host with a token", "GET", "/api/v1/instances", []string{"Authorization: Bearer " + token, "Host: cloudbutton.example"}, 200},
		{"cross-origin POST with a cookie", "POST", "/api/v1/instances/x/terminate", []string{cookie, "Origin: http://evil.example"}, 403},
		{"cross-site POST with a bearer", "POST", "/api/v1/instances", []string{"Authorization: Bearer " + token, "Sec-Fetch-Site: cross-site"}, 403},
		{"GET on an action", "GET", "/api/v1/instances/x/terminate", []string{cookie}, 405},
	}
	var unauthorized string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var host string
			var hs []string
			for _, h := range tt.headers {
				if v, ok := strings.CutPrefix(h, "Host: "); ok {
					host = v
				} else {
					hs = append(hs, h)
				}
			}
			a := do(t, hc, tt.method, url+tt.path, host, "", hs...)
			require.Equal(t, tt.status, a.status, a.body)
			if tt.status >= 400 {
				assert.Equal(t, "application/problem+json", a.header.Get("Content-Type"))
			}
			if tt.status == 401 {
				assert.Equal(t, `Bearer realm="cloudbutton"`, a.header.Get("WWW-Authenticate"))
				assert.Empty(t, a.header.Values("Set-Cookie"))
				if unauthorized == "" {
					unauthorized = a.body
				}
				assert.Equal(t, unauthorized, a.body, "every 401 is the same: nothing about the request or the token leaks")
				assert.NotContains(t, a.body, token)
				assert.NotContains(t, a.body, "instances")
			}
		})
	}
}

func TestHostWithoutAToken(t *testing.T) {
	url, hc := serve(t, server.Options{AllowedHosts: []string{"Proxy.Example"}})
	tests := []struct {
		host   string
		status int
	}{
		{"", 200}, // 127.0.0.1:port
		{"localhost:8233", 200},
		{"localhost", 200},
		{"[::1]:8233", 200},
		{"127.0.0.1", 200},
		{"proxy.example:443", 200},
		{"evil.example", 403},
		{"evil.example:8233", 403},
		{"127.0.0.1.evil.example", 403},
		{"localhost.evil.example", 403},
		{"192.168.1.1:8233", 403},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			a := do(t, hc, "GET", url+"/api/v1/instances", tt.host, "")
			require.Equal(t, tt.status, a.status, a.body)
			if tt.status == 403 {
				assert.Contains(t, a.body, "loopback names only")
				assert.Equal(t, "application/problem+json", a.header.Get("Content-Type"))
			}
		})
	}
}

// TestServesTheAPI starts, raises and waits through the server.
func TestServesTheAPI(t *testing.T) {
	url, hc := serve(t, server.Options{Token: token})
	bearer := "Authorization: Bearer " + token
	a := do(t, hc, "POST", url+"/api/v1/instances", "", `{"name":"nobody-runs-this","id":"s1"}`, bearer)
	require.Equal(t, http.StatusAccepted, a.status, a.body)
	assert.Equal(t, "/api/v1/instances/s1", a.header.Get("Location"))
	a = do(t, hc, "GET", url+"/api/v1/instances/s1", "", "", bearer)
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.Contains(t, a.body, `"runtimeStatus":"Pending"`)
	assert.Equal(t, "nosniff", a.header.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", a.header.Get("X-Frame-Options"))
	a = do(t, hc, "GET", url+"/api/v1/openapi.json", "", "", bearer)
	require.Equal(t, http.StatusOK, a.status)
	assert.Contains(t, a.body, `"openapi": "3.1.0"`)
}

// TestServesTheDashboard: the pages are the dashboard's, behind the same
// token as the API, and its actions refuse a cross-site POST.
func TestServesTheDashboard(t *testing.T) {
	url, hc := serve(t, server.Options{Token: token})
	bearer := "Authorization: Bearer " + token
	a := do(t, hc, "POST", url+"/api/v1/instances", "", `{"name":"nobody-runs-this","id":"d1"}`, bearer)
	require.Equal(t, http.StatusAccepted, a.status, a.body)
	tests := []struct {
		name, method, path string
		headers            []string
		status             int
		contains           string
	}{
		{"the list", "GET", "/", []string{bearer}, 200, "d1"},
		{"an instance page", "GET", "/instances/d1", []string{bearer}, 200, "nobody-runs-this"},
		{"an unknown instance", "GET", "/instances/nope", []string{bearer}, 404, ""},
		{"a page without the token", "GET", "/instances/d1", nil, 401, ""},
		{"a cross-site action", "POST", "/instances/d1/terminate", []string{bearer, "Sec-Fetch-Site: cross-site"}, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, hc, tt.method, url+tt.path, "", "", tt.headers...)
			assert.Equal(t, tt.status, a.status, a.body)
			assert.Contains(t, a.body, tt.contains)
		})
	}
}
