package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/dashboard"
	"github.com/cloudbutton/cloudbutton/httpapi"
	"github.com/cloudbutton/cloudbutton/internal/loopback"
)

// CookieName is the cookie that a browser's ?token= sets.
const CookieName = "cloudbutton_token"

// Options configures New. The zero value serves loopback clients without
// a token.
type Options struct {
	// Token, when set, is required on every request (API calls and
	// pages): as "Authorization: Bearer TOKEN", or from a browser once as
	// ?token=TOKEN, which sets an HttpOnly, SameSite=Strict cookie and
	// redirects to the same URL without it. Without a token, only
	// requests whose Host is a loopback name or address (or one of
	// AllowedHosts) are served, which defeats DNS rebinding.
	Token string
	// AllowedHosts are more host names (without a port) served without a
	// token, e.g. the name of a reverse proxy that authenticates. They
	// are not needed with a Token.
	AllowedHosts []string
	// API configures the HTTP API under /api/v1.
	API httpapi.Options
	// Dashboard configures the web dashboard at /.
	Dashboard dashboard.Options
	// Logger receives the server's logs (default slog.Default()); it is
	// also the API's unless API.Logger is set.
	Logger *slog.Logger
}

// New returns the server of c: the HTTP API at /api/v1/ and the
// dashboard at /, behind the token of opts (if any), a loopback-only
// Host check (without a token), and http.CrossOriginProtection (actions
// are POST and DELETE only). It is an http.Handler to serve with an
// http.Server, or to mount in another server (with http.StripPrefix; set
// API.BasePath then). It is safe for concurrent use.
func New(c client.Client, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.API.Logger == nil {
		opts.API.Logger = opts.Logger
	}
	mux := http.NewServeMux()
	mux.Handle(httpapi.Prefix+"/", httpapi.New(c, opts.API))
	mux.Handle("/", dashboard.New(c, opts.Dashboard))
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(httpapi.Forbidden))
	s := &guard{next: cop.Handler(mux), log: opts.Logger}
	if opts.Token != "" {
		s.token = digest(opts.Token)
		s.cookie = cookieValue(opts.Token)
	}
	for _, h := range opts.AllowedHosts {
		s.hosts = append(s.hosts, strings.ToLower(h))
	}
	return s
}

// guard checks the Host (without a token) or the token, then serves next.
type guard struct {
	next   http.Handler
	token  []byte // sha256 of the token; nil without one
	cookie string // the cookie's value: derived from the token, not the token
	hosts  []string
	log    *slog.Logger
}

func (s *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if s.token == nil {
		if !s.hostAllowed(r.Host) {
			s.log.Debug("server: refused a Host", "host", r.Host, "path", r.URL.Path)
			httpapi.WriteProblem(w, &httpapi.Problem{Type: httpapi.ProblemTypePrefix + "forbidden", Title: "Forbidden",
				Status: http.StatusForbidden,
				Detail: "without a token the server answers requests to loopback names only (localhost, 127.0.0.1, [::1]): " +
					"set a token to serve other names"})
			return
		}
		s.next.ServeHTTP(w, r)
		return
	}
	q := r.URL.Query()
	if q.Has("token") && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		if !s.valid(q.Get("token")) {
			s.unauthorized(w, r)
			return
		}
		s.login(w, r, q)
		return
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Bearer") || !s.valid(strings.TrimSpace(tok)) {
			s.unauthorized(w, r)
			return
		}
		s.next.ServeHTTP(w, r)
		return
	}
	if c, err := r.Cookie(CookieName); err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(s.cookie)) == 1 {
		s.next.ServeHTTP(w, r)
		return
	}
	s.unauthorized(w, r)
}

// login sets the cookie and redirects to the URL without its token: a
// relative reference (its last path segment and the other parameters),
// so that it works under any mount point.
func (s *guard) login(w http.ResponseWriter, r *http.Request, q url.Values) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: s.cookie, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	q.Del("token")
	loc := "./"
	if p := r.URL.Path; !strings.HasSuffix(p, "/") {
		loc += url.PathEscape(path.Base(p))
	}
	if len(q) > 0 {
		loc += "?" + q.Encode()
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusSeeOther)
}

// unauthorized answers 401, the same for a missing and a wrong token.
func (s *guard) unauthorized(w http.ResponseWriter, r *http.Request) {
	s.log.Debug("server: unauthorized", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
	w.Header().Set("WWW-Authenticate", `Bearer realm="cloudbutton"`)
	httpapi.WriteProblem(w, &httpapi.Problem{Type: httpapi.ProblemTypePrefix + "unauthorized", Title: "Unauthorized",
		Status: http.StatusUnauthorized,
		Detail: "a token is required: send Authorization: Bearer TOKEN, or open the page once with ?token=TOKEN"})
}

// valid compares tok with the token in constant time (of equal-length
// digests, so that the token's length does not leak either).
func (s *guard) valid(tok string) bool {
	return subtle.ConstantTimeCompare(digest(tok), s.token) == 1
}

func (s *guard) hostAllowed(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if loopback.Host(host) {
		return true
	}
	host = strings.ToLower(host)
	for _, h := range s.hosts {
		if h == host {
			return true
		}
	}
	return false
}

func digest(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

// cookieValue is what the cookie holds: an HMAC of a fixed label under
// the token, so that a leaked cookie is not the token itself.
func cookieValue(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("cloudbutton session cookie v1"))
	return hex.EncodeToString(m.Sum(nil))
}
