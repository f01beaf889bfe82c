package dashboard

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
)

// Options configures the dashboard. The zero value is usable.
type Options struct {
	// Title names the dashboard in page headers (default "CloudButton").
	Title string
	// BasePath is the path the handler is served under when it is mounted
	// below the root with http.StripPrefix, e.g. "/dashboard"; links and
	// redirects are made under it. Empty means the root.
	BasePath string
	// PageSize is the number of instances per page of the list (default
	// 50, at most 500).
	PageSize int
	// CountLimit bounds each per-status count of the list: a status with
	// more instances shows "N+" (default 1,000). Counting lists instances
	// through the client, so a bound keeps the live counts cheap.
	CountLimit int
	// RefreshInterval is how often the list's counts and a live instance's
	// page poll the server (default 2s).
	RefreshInterval time.Duration
	// MaxTimelineBars caps the bars of an instance's timeline (default
	// 2,000). Past it, tasks are drawn as aggregated rows (one bar from
	// the first start to the last finish of each group of consecutive
	// tasks) and only the notable attempts get bars of their own: failed
	// and retried ones, running ones and the slowest.
	MaxTimelineBars int
	// MaxHistoryRows caps the rows of an instance's history table
	// (default 1,000): the first and last events are shown, with a link to
	// the whole history. An instance of more than MaxHistoryRows/2
	// activity attempts has its history on a page of its own
	// (/instances/{id}/history), which its page loads after it is shown:
	// the export of a long history does not hold up its timeline.
	MaxHistoryRows int
	// Logger receives errors the pages could not show (default
	// slog.Default()).
	Logger *slog.Logger
}

const (
	defaultPageSize        = 50
	maxPageSize            = 500
	defaultCountLimit      = 1000
	defaultRefresh         = 2 * time.Second
	defaultMaxTimelineBars = 2000
	defaultMaxHistoryRows  = 1000
)

func (o Options) withDefaults() Options {
	if o.Title == "" {
		o.Title = "CloudButton"
	}
	o.BasePath = strings.TrimRight(o.BasePath, "/")
	if o.BasePath != "" && !strings.HasPrefix(o.BasePath, "/") {
		o.BasePath = "/" + o.BasePath
	}
	if o.PageSize <= 0 {
		o.PageSize = defaultPageSize
	}
	o.PageSize = min(o.PageSize, maxPageSize)
	if o.CountLimit <= 0 {
		o.CountLimit = defaultCountLimit
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = defaultRefresh
	}
	if o.MaxTimelineBars <= 0 {
		o.MaxTimelineBars = defaultMaxTimelineBars
	}
	if o.MaxHistoryRows <= 0 {
		o.MaxHistoryRows = defaultMaxHistoryRows
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are the parsed templates, one set per page (each defines
// "content" inside the shared layout).
var pages = parsePages("list", "instance", "history", "confirm", "error")

func parsePages(names ...string) map[string]*template.Template {
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html"))
	out := make(map[string]*template.Template, len(names))
	for _, n := range names {
		out[n] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+n+".html"))
	}
	return out
}

// dashboard is the handler's state; it holds no per-request data and is
// safe for concurrent use.
type dashboard struct {
	c    client.Client
	opts Options
	// assetVersion is appended to asset URLs so browsers refetch them
	// after an upgrade.
	assetVersion string
}

// New returns the dashboard over c as an http.Handler, serving the
// instance list at / and one page per instance at /instances/{id}. It is
// safe for concurrent use. Actions are POST forms, protected against
// cross-site request forgery by http.CrossOriginProtection: a browser's
// cross-origin POST (another site, or another port of the same host) is
// refused with 403, so the handler is safe to mount on its own; it does
// no authentication of its own.
func New(c client.Client, opts Options) http.Handler {
	d := &dashboard{c: c, opts: opts.withDefaults(), assetVersion: assetVersion()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.list)
	mux.HandleFunc("GET /counts.json", d.counts)
	mux.HandleFunc("GET /instances/{id}", d.instance)
	mux.HandleFunc("GET /instances/{id}/live.json", d.live)
	mux.HandleFunc("GET /instances/{id}/history.json", d.historyJSON)
	mux.HandleFunc("GET /instances/{id}/history", d.historyPage)
	mux.HandleFunc("POST /instances/{id}/{action}", d.action)
	mux.HandleFunc("GET /instances/{id}/{action}", d.postOnly)
	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheAssets(files)))
	mux.HandleFunc("/", d.notFound)
	return http.NewCrossOriginProtection().Handler(securityHeaders(mux))
}

// securityHeaders forbids framing (clickjacking of the actions), inline
// scripts and styles (every script and style is an embedded asset), and
// content sniffing.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

func cacheAssets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		h.ServeHTTP(w, r)
	})
}

// assetVersion is a short digest of the embedded assets.
func assetVersion() string {
	var h uint32 = 2166136261
	_ = fs.WalkDir(staticFS, "static", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(path)
		for _, c := range b {
			h = (h ^ uint32(c)) * 16777619
		}
		return err
	})
	return fmt.Sprintf("%08x", h)
}

// page is what the layout renders around a page's content.
type page struct {
	Title    string // of the document
	App      string // Options.Title
	Base     string // Options.BasePath
	Asset    string // asset version
	Search   string // the id search box's value
	Body     any    // the page's own data
	Interval int64  // refresh interval, ms
}

func (d *dashboard) newPage(title string, body any) page {
	return page{Title: title, App: d.opts.Title, Base: d.opts.BasePath, Asset: d.assetVersion, Body: body,
		Interval: d.opts.RefreshInterval.Milliseconds()}
}

// render executes a page into a buffer first, so that a template error
// is a clean 500 rather than half a page.
func (d *dashboard) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout.html", p); err != nil {
		d.opts.Logger.ErrorContext(r.Context(), "dashboard: render", "page", name, "err", err)
		http.Error(w, "dashboard: rendering the page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage is the body of the error page.
type errorPage struct {
	Status  int
	Heading string
	Message string
}

func (d *dashboard) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	d.render(w, r, status, "error", d.newPage(http.StatusText(status), errorPage{Status: status, Heading: http.StatusText(status), Message: msg}))
}

func (d *dashboard) notFound(w http.ResponseWriter, r *http.Request) {
	d.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no page at %s.", r.URL.Path))
}

// postOnly answers a GET of an action: actions are POST forms.
func (d *dashboard) postOnly(w http.ResponseWriter, r *http.Request) {
	if _, ok := actionLabels[r.PathValue("action")]; !ok {
		d.notFound(w, r)
		return
	}
	w.Header().Set("Allow", http.MethodPost)
	d.fail(w, r, http.StatusMethodNotAllowed, "Actions are POST forms: use the buttons of the instance's page.")
}

// badRequest is a 400 naming the form or query field at fault.
func (d *dashboard) badRequest(w http.ResponseWriter, r *http.Request, err error) {
	d.fail(w, r, http.StatusBadRequest, err.Error())
}

// engineError answers an error of the client: 404 for an unknown
// instance, 409 for an instance in the wrong state, 501 for what the
// engine does not support, 504 when the request ran out of time, 502
// otherwise (the engine, not the dashboard, failed).
func (d *dashboard) engineError(w http.ResponseWriter, r *http.Request, what string, err error) {
	status := http.StatusBadGateway
	switch {
	case errors.Is(err, client.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, client.ErrNotRunning), errors.Is(err, client.ErrAlreadyExists):
		status = http.StatusConflict
	case errors.Is(err, errors.ErrUnsupported):
		status = http.StatusNotImplemented
	case errors.Is(err, context.DeadlineExceeded):
		status = http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return // the browser went away
	default:
		d.opts.Logger.ErrorContext(r.Context(), "dashboard: engine error", "what", what, "err", err)
	}
	d.fail(w, r, status, fmt.Sprintf("%s: %v", what, err))
}

// fieldError is a bad form or query value; its message names the field.
type fieldError struct {
	Field string
	Err   error
}

func (e *fieldError) Error() string { return fmt.Sprintf("field %q: %v", e.Field, e.Err) }
func (e *fieldError) Unwrap() error { return e.Err }

func badField(field, format string, args ...any) error {
	return &fieldError{Field: field, Err: fmt.Errorf(format, args...)}
}
