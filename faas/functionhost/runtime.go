package functionhost

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
)

// Runtime API header names, as aws-lambda-go and the other Lambda runtime
// clients read them.
const (
	hdrRequestID   = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadline    = "Lambda-Runtime-Deadline-Ms"
	hdrFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTraceID     = "Lambda-Runtime-Trace-Id"
	hdrErrorType   = "Lambda-Runtime-Function-Error-Type"
	trailerErrBody = "Lambda-Runtime-Function-Error-Body"
	runtimePrefix  = "/2018-06-01/runtime"
)

// invocation is one request handed to an execution environment.
type invocation struct {
	id       string
	payload  []byte
	arn      string
	timeout  time.Duration
	deadline time.Time     // set by the /next handler on delivery
	received chan struct{} // closed once deadline is set
	done     chan outcome  // the runtime's response or error (buffered)

	memUsedMB int // the environment's Max Memory Used, for the REPORT line (0: unknown)
}

// outcome is the result of one invocation as the Invoke API returns it.
type outcome struct {
	body          []byte
	functionError bool
	timedOut      bool
	crashed       bool
}

func errorOutcome(e lambdawire.ErrorResponse) outcome {
	b, _ := json.Marshal(e)
	return outcome{body: b, functionError: true, timedOut: e.Type == lambdawire.TypeTimeout, crashed: e.IsRuntimeCrash()}
}

// environment is one execution environment: a bootstrap process and the
// Runtime API endpoint it polls (its own listener on 127.0.0.1).
type environment struct {
	fn      *function
	id      int
	cmd     *exec.Cmd
	srv     *http.Server
	addr    string
	started time.Time
	logs    *procLog
	box     *sandbox // every process of the environment, and its memory

	next      chan *invocation // unbuffered: taken by a /next poll
	ready     chan struct{}    // closed at the first /next poll
	readyOnce sync.Once
	initDur   time.Duration // valid once ready is closed
	initErr   chan lambdawire.ErrorResponse
	exited    chan struct{} // closed when the process has exited
	exitErr   error         // valid once exited is closed
	closing   chan struct{}
	closeOnce sync.Once

	mu  sync.Mutex
	cur *invocation

	lastUsed time.Time // guarded by fn.mu
}

// startEnvironment launches a bootstrap process with its Runtime API.
func startEnvironment(fn *function, id int) (*environment, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("functionhost: runtime API listener for %q: %w", fn.name, err)
	}
	e := &environment{
		fn: fn, id: id, addr: ln.Addr().String(),
		next: make(chan *invocation), ready: make(chan struct{}), initErr: make(chan lambdawire.ErrorResponse, 1),
		exited: make(chan struct{}), closing: make(chan struct{}),
		logs: newProcLog(fn.host.opts.LogOutput, fmt.Sprintf("[%s/%d] ", fn.name, id)),
	}
	e.box = newSandbox(fn.host.log, fn.cfg.MemoryMB)
	e.started = time.Now()
	e.srv = &http.Server{Handler: e.routes(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: fn.host.httpErrorLog()}
	go func() { _ = e.srv.Serve(ln) }()

	cmd := exec.Command(fn.cfg.Bootstrap)
	cmd.Dir = filepath.Dir(fn.cfg.Bootstrap)
	cmd.Env = fn.processEnv(e.addr, id)
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
	select {
	case e.next <- inv:
	case <-e.exited:
		return e.exitOutcome(inv, "before the invocation"), false
	case ie := <-e.initErr:
		e.kill()
		ie.Type = lambdawire.TypeInit + "." + ie.Type
		ie.Message = fmt.Sprintf("RequestId: %s Error: runtime init failed: %s", inv.id, ie.Message)
		return errorOutcome(ie), true
	case <-initTimer:
		e.kill()
		return errorOutcome(lambdawire.ErrorResponse{Type: lambdawire.TypeTimeout,
			Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds during init (no /runtime/invocation/next poll)", inv.id, initTimeout.Seconds())}), true
	}
	<-inv.received
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
		return errorOutcome(lambdawire.ErrorResponse{Type: lambdawire.TypeTimeout,
			Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, inv.timeout.Seconds())}), true
	}
}

func (e *environment) exitOutcome(inv *invocation, when string) outcome {
	if e.box.outOfMemory() {
		return errorOutcome(outOfMemoryError(inv.id, e.exitErr))
	}
	return errorOutcome(lambdawire.ErrorResponse{Type: lambdawire.TypeExit,
		Message: fmt.Sprintf("RequestId: %s Error: Runtime exited %s with error: %v", inv.id, when, e.exitErr)})
}

func (e *environment) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimePrefix+"/invocation/next", e.handleNext)
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/response", e.handleResponse)
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/error", e.handleError)
	mux.HandleFunc("POST "+runtimePrefix+"/init/error", e.handleInitError)
	return mux
}

func (e *environment) handleNext(w http.ResponseWriter, r *http.Request) {
	e.readyOnce.Do(func() {
		e.initDur = time.Since(e.started)
		close(e.ready)
	})
	select {
	case inv := <-e.next:
		inv.deadline = time.Now().Add(inv.timeout)
		e.mu.Lock()
		e.cur = inv
		e.mu.Unlock()
		close(inv.received)
		h := w.Header()
		h.Set(hdrRequestID, inv.id)
		h.Set(hdrDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set(hdrFunctionARN, inv.arn)
		h.Set(hdrTraceID, "Root=1-"+inv.id[:8]+"-"+inv.id[9:13]+";Sampled=0")
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload)
	case <-e.closing:
		runtimeError(w, http.StatusGone, "Runtime.Shutdown", "the execution environment is shutting down")
	case <-r.Context().Done():
	}
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
	inv.done <- errorOutcome(parseRuntimeError(r, body))
	accepted(w)
}

func (e *environment) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _, err := readLimited(r.Body, lambdawire.MaxSyncPayload)
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", "reading the error body: "+err.Error())
		return
	}
	select {
	case e.initErr <- parseRuntimeError(r, body):
	default:
	}
	accepted(w)
}

// parseRuntimeError reads an error posted by a runtime: Lambda's JSON shape,
// or anything else, with the type in the Lambda-Runtime-Function-Error-Type
// header when the body has none, and Runtime.Unknown when neither has one.
func parseRuntimeError(r *http.Request, body []byte) lambdawire.ErrorResponse {
	er, ok := lambdawire.ParseErrorBody(body)
	if !ok {
		er = lambdawire.ErrorResponse{Message: string(body)}
	}
	if er.Type == "" {
		er.Type = r.Header.Get(hdrErrorType)
	}
	if er.Type == "" {
		er.Type = "Runtime.Unknown"
	}
	return er
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

var errThrottled = errors.New("functionhost: concurrency limit reached")
