package functionhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/codec"
	"golang.org/x/net/netutil"

	"github.com/cloudbutton/cloudbutton/faas/lambdahandler"
)

// MaxLogTail is how much of an invocation's log X-Amz-Log-Result carries.
const MaxLogTail = 4096

// Options configures a Host. The zero value is usable.
type Options struct {
	// Activities are the activities in-process functions can run.
	Activities []activity.Definition
	// Codec decodes and encodes in-process activity payloads (default
	// codec.JSON); it must match the invoking worker's codec.
	Codec codec.Codec
	// Region and AccountID appear in function ARNs and the bootstrap's
	// environment (defaults "us-east-1" and "000000000000").
	Region, AccountID string
	// Logger receives the host's own logs (default slog.Default()).
	Logger *slog.Logger
	// LogOutput receives the functions' logs (bootstrap stdout and stderr,
	// one prefixed line at a time); nil discards them.
	LogOutput io.Writer
	// InitTimeout bounds a bootstrap's start-up, until it first polls
	// /runtime/invocation/next (default DefaultInitTimeout).
	InitTimeout time.Duration
	// ReapInterval is how often idle environments are looked for (default
	// one second).
	ReapInterval time.Duration
	// RequestTimeout bounds reading one Invoke request, headers and body
	// (default 30s): a client that sends its body slowly is cut off.
	RequestTimeout time.Duration
	// MaxConnections bounds the Invoke API's open connections (default
	// 1024); further clients wait to be accepted.
	MaxConnections int
	// SpoolDir holds queued asynchronous (Event) invocations, one file
	// each, so that a queue of large payloads costs disk, not memory. Set,
	// it survives the host: a new host on the same directory runs what
	// was left. Empty: a temporary directory removed by Close.
	SpoolDir string
	// AccessKeyID and SecretAccessKey are the credentials every request
	// to the host must be signed with (AWS Signature Version 4, as the AWS
	// SDKs and CLI sign): anyone who can reach a loopback port could
	// otherwise run code through it. Empty: a random pair, see
	// Host.Credentials.
	AccessKeyID, SecretAccessKey string
	// CodeDir holds the deployment packages uploaded through the control
	// plane (CreateFunction, UpdateFunctionCode), extracted, one directory
	// per function and package. Empty: a temporary directory removed by
	// Close. A host does not reload what a previous one left there.
	CodeDir string
}

// Host is a local, Lambda-compatible function host: it serves the Lambda
// Invoke API and runs functions in-process or as bootstrap executables
// through its own Runtime API. It is safe for concurrent use.
type Host struct {
	opts  Options
	log   *slog.Logger
	spool string // SpoolDir, or a temporary directory
	tmp   bool   // spool is temporary

	auth *authenticator
	fnMu sync.Mutex // guards fns
	fns  map[string]*function

	mu      sync.Mutex
	srv     *http.Server
	closed  bool
	stopped chan struct{}
	bg      sync.WaitGroup
	ctx     context.Context // canceled by Close
	cancel  context.CancelFunc
	ctl     control // the control plane's state
}

// New returns a host for cfg. It validates the config and checks that the
// activities named by in-process functions are among opts.Activities.
func New(cfg *Config, opts Options) (*Host, error) {
	if cfg == nil {
		return nil, errors.New("functionhost: nil config")
	}
	cp := Config{Functions: make(map[string]FunctionConfig, len(cfg.Functions))}
	for k, v := range cfg.Functions {
		cp.Functions[k] = v
	}
	if len(cp.Functions) > 0 { // none: functions come through the control plane
		if err := cp.normalize(); err != nil {
			return nil, fmt.Errorf("functionhost: %w", err)
		}
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.InitTimeout <= 0 {
		opts.InitTimeout = DefaultInitTimeout
	}
	if opts.ReapInterval <= 0 {
		opts.ReapInterval = time.Second
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = 1024
	}
	byName := map[string]activity.Definition{}
	for _, d := range opts.Activities {
		if d == nil {
			return nil, errors.New("functionhost: nil activity in Options.Activities")
		}
		byName[d.Name()] = d
	}
	if (opts.AccessKeyID == "") != (opts.SecretAccessKey == "") {
		return nil, errors.New("functionhost: set both Options.AccessKeyID and SecretAccessKey, or neither")
	}
	if opts.AccessKeyID == "" {
		opts.AccessKeyID, opts.SecretAccessKey = "CBLOCAL"+strings.ToUpper(newToken()[:13]), newToken()+newToken()[:8]
	}
	h := &Host{opts: opts, log: opts.Logger, fns: map[string]*function{}, stopped: make(chan struct{}),
		auth: newAuthenticator(opts.AccessKeyID, opts.SecretAccessKey)}
	h.ctl.init(opts.CodeDir)
	for name, fc := range cp.Functions {
		var handler *lambdahandler.Handler
		if fc.Bootstrap == "" {
			var err error
			if handler, err = inProcessHandler(name, fc, byName, opts.Codec); err != nil {
				return nil, err
			}
		}
		h.fns[name] = newFunction(h, name, fc, handler)
	}
	if err := h.openSpool(); err != nil {
		return nil, err
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	for _, fn := range h.fns {
		if err := fn.async.start(); err != nil {
			h.cancel()
			h.bg.Wait()
			h.closeSpool()
			return nil, err
		}
	}
	go h.reapLoop()
	return h, nil
}

// function returns the named function, or nil.
func (h *Host) function(name string) *function {
	h.fnMu.Lock()
	defer h.fnMu.Unlock()
	return h.fns[name]
}

// functions returns every function.
func (h *Host) functions() []*function {
	h.fnMu.Lock()
	defer h.fnMu.Unlock()
	fns := make([]*function, 0, len(h.fns))
	for _, fn := range h.fns {
		fns = append(fns, fn)
	}
	return fns
}

func inProcessHandler(name string, fc FunctionConfig, byName map[string]activity.Definition, c codec.Codec) (*lambdahandler.Handler, error) {
	want := fc.Activities
	if fc.Activity != "" {
		want = append([]string{fc.Activity}, want...)
	}
	var defs []activity.Definition
	all := len(want) == 0 || (len(want) == 1 && want[0] == "*") || (fc.InProcess && len(fc.Activities) == 0)
	if all {
		for _, d := range byName {
			defs = append(defs, d)
		}
	} else {
		seen := map[string]bool{}
		for _, a := range want {
			d, ok := byName[a]
			if !ok {
				return nil, fmt.Errorf("functionhost: function %q: activity %q is not among the host's activities (%s)", name, a, strings.Join(sortedNames(byName), ", "))
			}
			if !seen[a] {
				seen[a] = true
				defs = append(defs, d)
			}
		}
	}
	if len(defs) == 0 {
		return nil, fmt.Errorf("functionhost: function %q is in-process but the host has no activities (Options.Activities)", name)
	}
	handler, err := lambdahandler.New(defs, lambdahandler.Options{Codec: c, DefaultActivity: fc.Activity})
	if err != nil {
		return nil, fmt.Errorf("functionhost: function %q: %w", name, err)
	}
	return handler, nil
}

func sortedNames(m map[string]activity.Definition) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Start listens on addr, which must be a loopback address (the host has no
// authentication), serves the Invoke API in the background and returns its
// base URL, e.g. "http://127.0.0.1:9001". Use "127.0.0.1:0" for any port.
func (h *Host) Start(addr string) (string, error) {
	hostPart, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("functionhost: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(hostPart); hostPart != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("functionhost: refusing to listen on %q: the host has no authentication, use a loopback address such as 127.0.0.1", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("functionhost: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		_ = ln.Close()
		return "", errors.New("functionhost: host is closed")
	}
	if h.srv != nil {
		_ = ln.Close()
		return "", errors.New("functionhost: already started")
	}
	h.srv = &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: h.opts.RequestTimeout,
		IdleTimeout: 2 * time.Minute, ErrorLog: h.httpErrorLog()}
	go func() { _ = h.srv.Serve(netutil.LimitListener(ln, h.opts.MaxConnections)) }()
	url := "http://" + ln.Addr().String()
	h.log.Info("functionhost: serving the Lambda Invoke API", "url", url, "functions", h.FunctionNames())
	return url, nil
}

// Close stops serving, waits (bounded by ctx) for in-flight invocations,
// then kills every bootstrap process. Queued asynchronous invocations stay
// in Options.SpoolDir when it is set (a host started on it later runs
// them); otherwise they are dropped, with a log line saying how many.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	srv := h.srv
	close(h.stopped)
	h.cancel()
	h.mu.Unlock()
	var err error
	if srv != nil {
		if err = srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
	}
	for _, fn := range h.functions() {
		fn.close()
	}
	h.bg.Wait()
	h.closeSpool()
	h.closeControl()
	return err
}

// FunctionNames lists the configured functions, sorted.
func (h *Host) FunctionNames() []string {
	fns := h.functions()
	names := make([]string, 0, len(fns))
	for _, fn := range fns {
		names = append(names, fn.name)
	}
	sort.Strings(names)
	return names
}

// Stats returns a function's counters; ok is false for an unknown name.
func (h *Host) Stats(name string) (stats FunctionStats, ok bool) {
	fn := h.function(name)
	if fn == nil {
		return FunctionStats{}, false
	}
	return fn.snapshot(), true
}

func (h *Host) reapLoop() {
	t := time.NewTicker(h.opts.ReapInterval)
	defer t.Stop()
	for {
		select {
		case <-h.stopped:
			return
		case now := <-t.C:
			for _, fn := range h.functions() {
				fn.reap(now)
			}
		}
	}
}

func (h *Host) httpErrorLog() *log.Logger {
	return slog.NewLogLogger(h.log.Handler(), slog.LevelDebug)
}

// Handler returns the Invoke API and control-plane handler, for serving
// them on a server of your own. It serves only requests signed with the
// host's credentials (see Credentials).
func (h *Host) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", h.serveInvoke)
	h.controlRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		awsError(w, http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("the local function host serves the Invoke API and the control plane of functions, versions and aliases under /2015-03-31/functions, not %s %s", r.Method, r.URL.Path))
	})
	return h.auth.wrap(dotSegments(mux))
}
