package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/errkind"
)

// Prefix is the path the API's routes are registered under.
const Prefix = "/api/v1"

// Defaults of Options.
const (
	DefaultMaxBodyBytes = 4 << 20
	DefaultWait         = 30 * time.Second
	DefaultMaxWait      = 5 * time.Minute
	DefaultListLimit    = 50
	MaxListLimit        = 1000
)

// Options configures New. The zero value is usable.
type Options struct {
	// BasePath is where clients reach the routes of Prefix, used in the
	// Location header and the links of responses (default Prefix). Set
	// it when the handler is mounted under another path (with
	// http.StripPrefix, or behind a proxy that rewrites paths), e.g.
	// "/ops/api/v1".
	BasePath string
	// MaxBodyBytes bounds a request body (default DefaultMaxBodyBytes); a
	// larger one gets 413. Payloads are bounded by the engine's own limit
	// too (codec.DefaultMaxPayload unless configured).
	MaxBodyBytes int64
	// DefaultWait is the long-poll of /wait without ?timeout= (default
	// DefaultWait); MaxWait bounds ?timeout= (default DefaultMaxWait).
	DefaultWait, MaxWait time.Duration
	// Logger receives the errors answered with a 5xx status (default
	// slog.Default()).
	Logger *slog.Logger
}

// api serves the routes; it is immutable after New.
type api struct {
	c        client.Client
	opts     Options
	base     string
	payloads payloads
	openapi  []byte
	log      *slog.Logger
}

// handlerFunc handles a request, returning an error to answer as a
// Problem.
type handlerFunc func(a *api, w http.ResponseWriter, r *http.Request) error

// route is one operation of the API: a method and a path under Prefix.
type route struct {
	method, path string
	h            handlerFunc
}

// routes are every operation the API serves; the OpenAPI document
// describes exactly these (a test checks).
var routes = []route{
	{http.MethodPost, "/instances", (*api).start},
	{http.MethodGet, "/instances", (*api).list},
	{http.MethodGet, "/instances/{id}", (*api).status},
	{http.MethodDelete, "/instances/{id}", (*api).purge},
	{http.MethodGet, "/instances/{id}/history", (*api).history},
	{http.MethodGet, "/instances/{id}/wait", (*api).wait},
	{http.MethodPost, "/instances/{id}/events/{name}", (*api).raise},
	{http.MethodPost, "/instances/{id}/terminate", (*api).terminate},
	{http.MethodPost, "/instances/{id}/suspend", (*api).suspend},
	{http.MethodPost, "/instances/{id}/resume", (*api).resume},
	{http.MethodGet, "/openapi.json", (*api).openAPI},
}

// Routes returns the operations the API serves, as "METHOD /path" with
// paths under Prefix and in the OpenAPI document's form
// ("GET /instances/{id}").
func Routes() []string {
	out := make([]string, len(routes))
	for i, rt := range routes {
		out[i] = rt.method + " " + rt.path
	}
	return out
}

// New returns the HTTP management API of c: JSON under Prefix (/api/v1),
// described by the OpenAPI document at /api/v1/openapi.json (see the
// package doc). The handler refuses cross-origin browser requests that
// change state (http.CrossOriginProtection) but authenticates nothing:
// package server adds a token. It is safe for concurrent use.
func New(c client.Client, opts Options) http.Handler {
	if opts.BasePath == "" {
		opts.BasePath = Prefix
	}
	opts.BasePath = strings.TrimRight(opts.BasePath, "/")
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	if opts.DefaultWait <= 0 {
		opts.DefaultWait = min(DefaultWait, opts.MaxWait)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	a := &api{c: c, opts: opts, base: opts.BasePath, payloads: payloads{json: c.Codec().Name() == "json"},
		openapi: openAPIDocument(opts.BasePath), log: opts.Logger}
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range routes {
		mux.Handle(rt.method+" "+Prefix+rt.path, a.handle(rt.h))
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	// A known path with another method: 405 naming the allowed ones
	// (registered without a method, these patterns match only what the
	// ones above do not).
	for path, methods := range allowed {
		if slices.Contains(methods, http.MethodGet) {
			methods = append(methods, http.MethodHead)
		}
		allow := strings.Join(methods, ", ")
		mux.HandleFunc(Prefix+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			WriteProblem(w, newProblem(http.StatusMethodNotAllowed, "method-not-allowed",
				r.Method+" is not allowed here; allowed: "+allow, r.URL.Path))
		})
	}
	mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, newProblem(http.StatusNotFound, "not-found", "no such route: "+r.Method+" "+r.URL.Path+
			" (the routes are listed in "+a.base+"/openapi.json)", r.URL.Path))
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(Forbidden))
	return cop.Handler(mux)
}

// Forbidden answers a cross-origin browser request that would change
// state with a 403 Problem (the deny handler of
// http.CrossOriginProtection).
func Forbidden(w http.ResponseWriter, r *http.Request) {
	WriteProblem(w, newProblem(http.StatusForbidden, "forbidden",
		"cross-origin request refused: actions are accepted from the same origin only", r.URL.Path))
}

// handle adapts h: it bounds the body, sets the headers every answer has,
// and answers h's error as a Problem.
func (a *api) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, a.opts.MaxBodyBytes)
		w.Header().Set("Cache-Control", "no-store")
		err := validPath(r)
		if err == nil {
			err = h(a, w, r)
		}
		if err == nil {
			return
		}
		p := ProblemFor(err, r.URL.Path)
		switch {
		case r.Context().Err() != nil:
			a.log.Debug("httpapi: request cancelled", "method", r.Method, "path", r.URL.Path, "err", err)
		case p.Status >= 500 && p.Status != http.StatusNotImplemented:
			a.log.Error("httpapi: request failed", "method", r.Method, "path", r.URL.Path, "status", p.Status, "err", err)
		}
		WriteProblem(w, p)
	})
}

// validPath refuses path values that are not valid UTF-8 (%FF): no
// engine can store them as ids or names.
func validPath(r *http.Request) error {
	for _, k := range [...]string{"id", "name"} {
		if v := r.PathValue(k); !utf8.ValidString(v) {
			return badField(k, "%s %q is not valid UTF-8", k, v)
		}
	}
	return nil
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeRaw(w, status, "application/json", b)
}

func writeRaw(w http.ResponseWriter, status int, contentType string, b []byte) error {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// The answer is on its way: a write error only means the client
	// went away.
	_, _ = w.Write(append(b, '\n'))
	return nil
}

// tooLargeError returns err as a too-large error if it is a body over the
// limit.
func tooLargeError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return errkind.With(errkind.TooLarge, &tooLarge{mb.Limit})
	}
	return nil
}
