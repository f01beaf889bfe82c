package functionhost

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
)

// Runtime API header names, as aws-lambda-go and the other Lambda runtime
// clients read them.
const (
	hdrRequestID     = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadline      = "Lambda-Runtime-Deadline-Ms"
	hdrFunctionARN   = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTraceID       = "Lambda-Runtime-Trace-Id"
	hdrErrorType     = "Lambda-Runtime-Function-Error-Type"
	hdrClientContext = "Lambda-Runtime-Client-Context"
	trailerErrBody   = "Lambda-Runtime-Function-Error-Body"
	runtimePrefix    = "/2018-06-01/runtime"
)

// invocation is one request handed to an execution environment.
type invocation struct {
	id            string // the request id: X-Amzn-RequestId and Lambda-Runtime-Aws-Request-Id
	payload       []byte
	arn           string // the invoked function ARN, with its qualifier if the caller gave one
	traceID       string
	clientContext string        // decoded X-Amz-Client-Context (JSON), if any
	timeout       time.Duration // set by version.invoke
	deadline      time.Time     // set by the /next handler on delivery
	done          chan outcome  // the runtime's response or error (buffered)

	memUsedMB int // the environment's Max Memory Used, for the REPORT line (0: unknown)
}

// outcome is the result of one invocation as the Invoke API returns it.
type outcome struct {
	body          []byte
	functionError bool
	timedOut      bool
	crashed       bool
}

// errorOutcome is a function error the host itself reports (a timeout, a
// process exit, an in-process activity's error), in Lambda's error shape.
func errorOutcome(e lambdawire.ErrorResponse) outcome {
	b, _ := json.Marshal(e)
	return outcome{body: b, functionError: true, timedOut: e.Type == lambdawire.TypeTimeout, crashed: e.IsRuntimeCrash()}
}

// postedErrorOutcome is a function error a runtime posted: like Lambda,
// the host answers the invoke with the posted body byte for byte, whatever
// its shape; typ (from the body or the Lambda-Runtime-Function-Error-Type
// header) only feeds the host's counters.
func postedErrorOutcome(body []byte, typ string) outcome {
	return outcome{body: body, functionError: true, crashed: strings.HasPrefix(typ, "Runtime.")}
}

func timeoutOutcome(inv *invocation) outcome {
	return errorOutcome(lambdawire.ErrorResponse{Type: lambdawire.TypeTimeout,
		Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, inv.timeout.Seconds())})
}

// environment is one execution environment: a bootstrap process and the
// Runtime API endpoint it polls: its own listener on 127.0.0.1, under a
// path prefix that only the process knows (see runtimeAPIPrefix).
type environment struct {
	fn      *function
	version *version
	id      int
	token   string // the secret path prefix of this environment's Runtime API
	cmd     *exec.Cmd
	srv     *http.Server
	addr    string
	started time.Time
	logs    *procLog
	box     *sandbox // every process of the environment, and its memory

	pollMu    sync.Mutex
	poller    *poller       // a /next poll waiting for an invocation
	polled    chan struct{} // buffered 1: a poller arrived
	ready     chan struct{} // closed at the first /next poll
	readyOnce sync.Once
	initDur   time.Duration // valid once ready is closed
	initErr   chan outcome  // an error posted to /runtime/init/error during init
	exited    chan struct{} // closed when the process has exited
	exitErr   error         // valid once exited is closed
	closing   chan struct{}
	closeOnce sync.Once

	mu  sync.Mutex
	cur *invocation

	lastUsed time.Time // guarded by fn.mu
}

// startEnvironment launches a bootstrap process with its Runtime API.
func startEnvironment(v *version, id int) (*environment, error) {
	fn := v.fn
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("functionhost: runtime API listener for %q: %w", fn.name, err)
	}
	e := &environment{
		fn: fn, version: v, id: id, addr: ln.Addr().String(), token: newToken(),
		polled: make(chan struct{}, 1), ready: make(chan struct{}), initErr: make(chan outcome, 1),
		exited: make(chan struct{}), closing: make(chan struct{}),
		logs: newProcLog(fn.host.opts.LogOutput, fmt.Sprintf("[%s:%s/%d] ", fn.name, v.name, id)),
	}
	e.box = newSandbox(fn.host.log, v.cfg.MemoryMB)
	e.started = time.Now()
	e.srv = &http.Server{Handler: e.routes(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: fn.host.httpErrorLog()}
	go func() { _ = e.srv.Serve(ln) }()

	cmd := exec.Command(v.cfg.Bootstrap)
	cmd.Dir = filepath.Dir(v.cfg.Bootstrap)
	cmd.Env = v.processEnv(e.addr+"/"+e.token, id)
	cmd.Stdout, cmd.Stderr = e.logs, e.logs
	cmd.WaitDelay = time.Second
	e.box.prepare(cmd)
	if err := cmd.Start(); err != nil {
		_ = e.srv.Close()
		e.box.release()
		return nil, fmt.Errorf("functionhost: starting bootstrap of %q: %w", fn.name, err)
	}
	e.box.started(cmd)
	e.cmd = cmd
	go func() {
		e.exitErr = cmd.Wait()
		close(e.exited)
		e.closeOnce.Do(func() { close(e.closing) })
		_ = e.srv.Close()
	}()
	return e, nil
}

// isExited reports whether the process has exited.
func (e *environment) isExited() bool {
	select {
	case <-e.exited:
		return true
	default:
		return false
	}
}

// kill stops every process of the environment (the bootstrap's exit
// leaves its children behind), waits for the bootstrap and frees the
// sandbox.
func (e *environment) kill() {
	e.closeOnce.Do(func() { close(e.closing) })
	e.box.kill()
	<-e.exited
	e.box.release()
}

// run hands inv to the process and waits for its outcome. delivered is
// false when the process exited before taking the invocation (the caller
// may retry it on another environment).
func (e *environment) run(inv *invocation, initTimeout time.Duration) (o outcome, delivered bool) {
	var initTimer <-chan time.Time
	select {
	case <-e.ready:
	default:
		t := time.NewTimer(initTimeout)
		defer t.Stop()
		initTimer = t.C
	}
	for delivered := false; !delivered; {
		if p := e.takePoller(); p != nil {
			delivered = e.deliver(p, inv)
			continue
		}
		select {
		case <-e.polled:
		case <-e.exited:
			return e.exitOutcome(inv, "before the invocation"), false
		case o := <-e.initErr:
			// Lambda answers the invoke with the body the runtime posted, and
			// starts a fresh environment for the next one.
			e.kill()
			return o, true
		case <-initTimer:
			e.kill()
			return errorOutcome(lambdawire.ErrorResponse{Type: lambdawire.TypeTimeout,
				Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds during init (no /runtime/invocation/next poll)", inv.id, initTimeout.Seconds())}), true
		}
	}
	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case o := <-inv.done:
		return o, true
	case <-e.exited:
		select {
		case o := <-inv.done: // responded, then exited (e.g. after a panic)
			return o, true
		default:
		}
		return e.exitOutcome(inv, "during the invocation"), true
	case <-timer.C:
		e.kill()
		select {
		case o := <-inv.done: // responded just in time
			return o, true
		default:
		}
		return timeoutOutcome(inv), true
	}
}

func (e *environment) exitOutcome(inv *invocation, when string) outcome {
	if e.box.outOfMemory() {
		return errorOutcome(outOfMemoryError(inv.id, e.exitErr))
	}
	return errorOutcome(lambdawire.ErrorResponse{Type: lambdawire.TypeExit,
		Message: fmt.Sprintf("RequestId: %s Error: Runtime exited %s with error: %v", inv.id, when, e.exitErr)})
}

// routes serves the Runtime API under the environment's secret prefix:
// AWS_LAMBDA_RUNTIME_API is "127.0.0.1:PORT/TOKEN", which runtimes join
// with "/2018-06-01/runtime/..." (aws-lambda-go and curl-style runtimes
// do). A request without the token, from any other local process, gets a
// bare 404: it can neither take an invocation nor post a result.
func (e *environment) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimePrefix+"/invocation/next", e.handleNext)
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/response", e.handleResponse)
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/error", e.handleError)
	mux.HandleFunc("POST "+runtimePrefix+"/init/error", e.handleInitError)
	prefix := "/" + e.token
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if len(p) <= len(prefix) || subtle.ConstantTimeCompare([]byte(p[:len(prefix)]), []byte(prefix)) != 1 || p[len(prefix)] != '/' {
			http.NotFound(w, r)
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath = p[len(prefix):], ""
		r2.URL = &u
		mux.ServeHTTP(w, r2)
	})
}

// newToken returns 128 random bits in hex: an environment's Runtime API
// path prefix, and its sandbox's name.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail on supported platforms
	return hex.EncodeToString(b[:])
}

// poller is a /next poll waiting for an invocation: the invoking
// goroutine writes the invocation to it directly (see deliver), which
// saves a goroutine wake-up on every warm invoke's critical path.
type poller struct {
	w    http.ResponseWriter
	done chan struct{} // closed once the poll is answered
}

func (e *environment) handleNext(w http.ResponseWriter, r *http.Request) {
	e.readyOnce.Do(func() {
		e.initDur = time.Since(e.started)
		close(e.ready)
	})
	p := &poller{w: w, done: make(chan struct{})}
	e.pollMu.Lock()
	if e.poller != nil {
		e.pollMu.Unlock()
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", "another /runtime/invocation/next poll is already waiting in this environment")
		return
	}
	e.poller = p
	e.pollMu.Unlock()
	select {
	case e.polled <- struct{}{}:
	default:
	}
	select {
	case <-p.done:
		return
	case <-e.closing:
	case <-r.Context().Done():
	}
	e.pollMu.Lock()
	mine := e.poller == p
	if mine {
		e.poller = nil
	}
	e.pollMu.Unlock()
	if !mine {
		<-p.done // an invocation is being written to it
		return
	}
	select {
	case <-e.closing:
		runtimeError(w, http.StatusGone, "Runtime.Shutdown", "the execution environment is shutting down")
	default:
	}
}

// takePoller returns the waiting /next poll, if any, and clears it.
func (e *environment) takePoller() *poller {
	e.pollMu.Lock()
	defer e.pollMu.Unlock()
	p := e.poller
	e.poller = nil
	return p
}

// deliver answers a /next poll with inv. It reports false when the poll's
// connection failed, so that another poll may take inv.
func (e *environment) deliver(p *poller, inv *invocation) bool {
	defer close(p.done)
	inv.deadline = time.Now().Add(inv.timeout)
	e.mu.Lock()
	e.cur = inv
	e.mu.Unlock()
	h := p.w.Header()
	h.Set(hdrRequestID, inv.id)
	h.Set(hdrDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(hdrFunctionARN, inv.arn)
	h.Set(hdrTraceID, inv.traceID)
	if inv.clientContext != "" {
		h.Set(hdrClientContext, inv.clientContext)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
	p.w.WriteHeader(http.StatusOK)
	_, err := p.w.Write(inv.payload)
	if err == nil {
		err = http.NewResponseController(p.w).Flush()
	}
	if err != nil {
		e.mu.Lock()
		e.cur = nil
		e.mu.Unlock()
		return false
	}
	return true
}

// take returns the in-flight invocation with the given id and clears it.
func (e *environment) take(w http.ResponseWriter, id string) *invocation {
	e.mu.Lock()
	defer e.mu.Unlock()
	inv := e.cur
	if inv == nil || inv.id != id {
		runtimeError(w, http.StatusBadRequest, "InvalidRequestID", fmt.Sprintf("no invocation %q is in flight in this environment", id))
		return nil
	}
	e.cur = nil
	return inv
}

func (e *environment) handleResponse(w http.ResponseWriter, r *http.Request) {
	body, tooLarge, err := readLimited(r.Body, lambdawire.MaxSyncPayload)
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", "reading the response body: "+err.Error())
		return
	}
	inv := e.take(w, r.PathValue("id"))
	if inv == nil {
		return
	}
	var o outcome
	switch {
	case tooLarge:
		o = errorOutcome(lambdawire.ErrorResponse{Type: lambdawire.TypeResponseTooLarge,
			Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", lambdawire.MaxSyncPayload)})
	case r.Trailer.Get(hdrErrorType) != "":
		// aws-lambda-go reports a failure while streaming the response in trailers.
		er := lambdawire.ErrorResponse{Type: r.Trailer.Get(hdrErrorType), Message: "the function failed while writing its response"}
		if raw, derr := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrBody)); derr == nil {
			if parsed, ok := lambdawire.ParseErrorBody(raw); ok {
				if parsed.Type == "" {
					parsed.Type = er.Type
				}
				er = parsed
			}
		}
		o = errorOutcome(er)
	default:
		o = outcome{body: body}
	}
	inv.done <- o
	// The invoking goroutine, readied by the send, answers the caller;
	// yield to it before the runtime's 202, which is not on the caller's
	// path (it waits in this P's run queue otherwise: about 10% of a warm
	// invoke's host time).
	runtime.Gosched()
	accepted(w)
}

func (e *environment) handleError(w http.ResponseWriter, r *http.Request) {
	body, _, err := readLimited(r.Body, lambdawire.MaxSyncPayload)
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", "reading the error body: "+err.Error())
		return
	}
	inv := e.take(w, r.PathValue("id"))
	if inv == nil {
		return
	}
	inv.done <- postedErrorOutcome(body, runtimeErrorType(r, body))
	accepted(w)
}

func (e *environment) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _, err := readLimited(r.Body, lambdawire.MaxSyncPayload)
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", "reading the error body: "+err.Error())
		return
	}
	select {
	case <-e.ready:
		// Lambda accepts an init error only during init (RIE: 403).
		runtimeError(w, http.StatusForbidden, "InvalidStateTransition",
			"State transition from Ready to InitError failed for runtime. Error: the runtime is initialized: /runtime/init/error is accepted only before the first /runtime/invocation/next")
		return
	default:
	}
	select {
	case e.initErr <- postedErrorOutcome(body, runtimeErrorType(r, body)):
	default:
	}
	accepted(w)
}

// runtimeErrorType is the type of an error a runtime posted: the
// Lambda-Runtime-Function-Error-Type header, else the body's errorType,
// else Runtime.Unknown.
func runtimeErrorType(r *http.Request, body []byte) string {
	if t := r.Header.Get(hdrErrorType); t != "" {
		return t
	}
	if er, ok := lambdawire.ParseErrorBody(body); ok && er.Type != "" {
		return er.Type
	}
	return "Runtime.Unknown"
}

func readLimited(r io.Reader, limit int) (body []byte, tooLarge bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, false, err
	}
	if len(body) > limit {
		_, _ = io.Copy(io.Discard, r)
		return nil, true, nil
	}
	return body, false, nil
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func runtimeError(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(lambdawire.ErrorResponse{Type: typ, Message: msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// procLog receives a process's stdout and stderr: it forwards whole lines,
// prefixed, to the host's log output and keeps what is written during an
// invocation for the log tail.
type procLog struct {
	mu      sync.Mutex
	out     io.Writer
	prefix  string
	partial []byte
	capture *bytes.Buffer
}

const maxCapture = 64 << 10

func newProcLog(out io.Writer, prefix string) *procLog {
	if out == nil {
		out = io.Discard
	}
	return &procLog{out: out, prefix: prefix}
}

func (l *procLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.capture != nil {
		l.capture.Write(p)
		if l.capture.Len() > maxCapture {
			tail := append([]byte(nil), l.capture.Bytes()[l.capture.Len()-maxCapture/2:]...)
			l.capture.Reset()
			l.capture.Write(tail)
		}
	}
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		_, _ = fmt.Fprintf(l.out, "%s%s\n", l.prefix, l.partial[:i])
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) > maxCapture {
		_, _ = fmt.Fprintf(l.out, "%s%s\n", l.prefix, l.partial)
		l.partial = l.partial[:0]
	}
	return len(p), nil
}

// begin starts capturing output for an invocation.
func (l *procLog) begin() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.capture = new(bytes.Buffer)
}

// end stops capturing and returns what was captured.
func (l *procLog) end() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.capture == nil {
		return nil
	}
	b := l.capture.Bytes()
	l.capture = nil
	return b
}

// lambdaPath is the PATH Lambda gives a provided.al2023 function, plus the
// host's own so a bootstrap script can find its tools.
func lambdaPath() string {
	p := "/usr/local/bin:/usr/bin:/bin:/opt/bin"
	if own := os.Getenv("PATH"); own != "" {
		p += ":" + own
	}
	return p
}
