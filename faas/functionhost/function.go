package functionhost

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/google/uuid"

	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
	"github.com/cloudbutton/cloudbutton/faas/lambdahandler"
)

// FunctionStats counts what happened to a function since the host started.
type FunctionStats struct {
	Invocations  int64 // invocations run (not throttled)
	ColdStarts   int64 // bootstrap processes started
	Throttles    int64 // invocations refused with 429
	Timeouts     int64 // invocations past the function timeout
	Crashes      int64 // processes that exited unexpectedly
	Errors       int64 // invocations that ended in a function error (any kind)
	Environments int   // bootstrap processes alive now
}

type counters struct {
	invocations, coldStarts, throttles, timeouts, crashes, errors atomic.Int64
}

// function is one configured function: its concurrency slots, and for a
// bootstrap function its pool of execution environments.
type function struct {
	host    *Host
	name    string
	arn     string
	cfg     FunctionConfig
	handler *lambdahandler.Handler // in-process functions only
	slots   chan struct{}
	stats   counters

	mu     sync.Mutex
	idle   []*environment // warm environments, most recently used last
	live   map[*environment]struct{}
	nextID int
	closed bool
}

// result is an invocation's outcome with its log text.
type result struct {
	outcome
	logs []byte
}

// acquire takes a concurrency slot: at once or errThrottled (Throttle), or
// waiting until ctx ends (Queue).
func (f *function) acquire(ctx context.Context) error {
	if f.cfg.OnLimit == Queue {
		select {
		case f.slots <- struct{}{}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	select {
	case f.slots <- struct{}{}:
		return nil
	default:
		f.stats.throttles.Add(1)
		return errThrottled
	}
}

func (f *function) release() { <-f.slots }

// invoke runs one invocation under a slot the caller holds.
func (f *function) invoke(ctx context.Context, payload []byte) result {
	f.stats.invocations.Add(1)
	inv := &invocation{
		id: uuid.NewString(), payload: payload, arn: f.arn, timeout: f.cfg.Timeout,
		received: make(chan struct{}), done: make(chan outcome, 1),
	}
	start := time.Now()
	var (
		o       outcome
		initDur time.Duration
		logs    []byte
	)
	if f.handler != nil {
		o = f.invokeInProcess(ctx, inv)
	} else {
		o, initDur, logs = f.invokeBootstrap(inv)
	}
	switch {
	case o.timedOut:
		f.stats.timeouts.Add(1)
	case o.crashed:
		f.stats.crashes.Add(1)
	}
	if o.functionError {
		f.stats.errors.Add(1)
	}
	return result{outcome: o, logs: f.formatLogs(inv.id, logs, time.Since(start), initDur, inv.memUsedMB)}
}

// invokeInProcess runs the handler in a goroutine under the function
// timeout; a handler that ignores its context is abandoned at the timeout.
func (f *function) invokeInProcess(ctx context.Context, inv *invocation) outcome {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), inv.timeout)
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- errorOutcome(lambdawire.ErrorResponse{Type: "Panic", Message: fmt.Sprint(r), StackTrace: lambdawire.ParseStack(string(debug.Stack()))})
			}
		}()
		out, err := f.handler.Invoke(ctx, inv.payload)
		if err != nil {
			done <- errorOutcome(toErrorResponse(err))
			return
		}
		done <- outcome{body: out}
	}()
	select {
	case o := <-done:
		return o
	case <-ctx.Done():
		return errorOutcome(lambdawire.ErrorResponse{Type: lambdawire.TypeTimeout,
			Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, inv.timeout.Seconds())})
	}
}

func toErrorResponse(err error) lambdawire.ErrorResponse {
	if ie, ok := err.(messages.InvokeResponse_Error); ok {
		er := lambdawire.ErrorResponse{Type: ie.Type, Message: ie.Message}
		for _, fr := range ie.StackTrace {
			er.StackTrace = append(er.StackTrace, lambdawire.StackFrame{Path: fr.Path, Line: fr.Line, Label: fr.Label})
		}
		return er
	}
	return lambdawire.ErrorResponse{Type: "Error", Message: err.Error()}
}

// maxRedeliveries bounds how often an invocation is handed to another
// environment after a warm one turned out to have exited before taking it.
const maxRedeliveries = 3

func (f *function) invokeBootstrap(inv *invocation) (o outcome, initDur time.Duration, logs []byte) {
	for try := 0; ; try++ {
		env, cold, err := f.takeEnvironment()
		if err != nil {
			return errorOutcome(lambdawire.ErrorResponse{Type: lambdawire.TypeInit, Message: err.Error()}), 0, nil
		}
		env.logs.begin()
		o, delivered := env.run(inv, f.host.opts.InitTimeout)
		logs = env.logs.end()
		inv.memUsedMB = env.box.maxMemoryMB()
		if cold {
			select {
			case <-env.ready:
				initDur = env.initDur
			default:
			}
		}
		f.putEnvironment(env)
		if delivered || cold || try >= maxRedeliveries {
			return o, initDur, logs
		}
		f.host.log.Debug("functionhost: warm environment exited before taking an invocation; retrying on another",
			"function", f.name, "env", env.id)
	}
}

// takeEnvironment returns a warm environment, or starts one (a cold start).
func (f *function) takeEnvironment() (*environment, bool, error) {
	f.mu.Lock()
	for len(f.idle) > 0 {
		env := f.idle[len(f.idle)-1]
		f.idle = f.idle[:len(f.idle)-1]
		if !env.isExited() {
			f.mu.Unlock()
			return env, false, nil
		}
		delete(f.live, env)
		f.stats.crashes.Add(1)
		go env.kill() // reaps its listener
	}
	if f.closed {
		f.mu.Unlock()
		return nil, false, fmt.Errorf("functionhost: function %q: the host is closing", f.name)
	}
	f.nextID++
	id := f.nextID
	f.mu.Unlock()

	env, err := startEnvironment(f, id)
	if err != nil {
		return nil, false, err
	}
	f.stats.coldStarts.Add(1)
	f.host.log.Debug("functionhost: cold start", "function", f.name, "env", id, "runtime_api", env.addr)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		go env.kill()
		return nil, false, fmt.Errorf("functionhost: function %q: the host is closing", f.name)
	}
	f.live[env] = struct{}{}
	return env, true, nil
}

// putEnvironment returns an environment to the warm pool, or drops it if
// its process is gone.
func (f *function) putEnvironment(env *environment) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if env.isExited() || f.closed {
		delete(f.live, env)
		go env.kill()
		return
	}
	env.lastUsed = time.Now()
	f.idle = append(f.idle, env)
}

// reap stops environments idle for longer than the idle timeout.
func (f *function) reap(now time.Time) {
	f.mu.Lock()
	var stop []*environment
	keep := f.idle[:0]
	for _, env := range f.idle {
		if now.Sub(env.lastUsed) >= f.cfg.IdleTimeout || env.isExited() {
			stop = append(stop, env)
			delete(f.live, env)
		} else {
			keep = append(keep, env)
		}
	}
	for i := len(keep); i < len(f.idle); i++ {
		f.idle[i] = nil
	}
	f.idle = keep
	f.mu.Unlock()
	for _, env := range stop {
		f.host.log.Debug("functionhost: idle shutdown", "function", f.name, "env", env.id)
		env.kill()
	}
}

// close kills every environment, busy ones included.
func (f *function) close() {
	f.mu.Lock()
	f.closed = true
	envs := make([]*environment, 0, len(f.live))
	for env := range f.live {
		envs = append(envs, env)
	}
	f.live = map[*environment]struct{}{}
	f.idle = nil
	f.mu.Unlock()
	for _, env := range envs {
		env.kill()
	}
}

func (f *function) snapshot() FunctionStats {
	f.mu.Lock()
	n := len(f.live)
	f.mu.Unlock()
	return FunctionStats{
		Invocations: f.stats.invocations.Load(), ColdStarts: f.stats.coldStarts.Load(), Throttles: f.stats.throttles.Load(),
		Timeouts: f.stats.timeouts.Load(), Crashes: f.stats.crashes.Load(), Errors: f.stats.errors.Load(), Environments: n,
	}
}

// processEnv is the environment of a bootstrap process, as Lambda sets it.
func (f *function) processEnv(runtimeAPI string, id int) []string {
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME=" + f.name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(f.cfg.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + f.name,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + time.Now().UTC().Format("2006/01/02") + "/[$LATEST]local-" + strconv.Itoa(id),
		"AWS_REGION=" + f.host.opts.Region,
		"AWS_DEFAULT_REGION=" + f.host.opts.Region,
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"LAMBDA_TASK_ROOT=" + dirOf(f.cfg.Bootstrap),
		"LAMBDA_RUNTIME_DIR=" + dirOf(f.cfg.Bootstrap),
		"_HANDLER=bootstrap",
		"TZ=:UTC",
		"PATH=" + lambdaPath(),
	}
	for k, v := range f.cfg.Environment {
		env = append(env, k+"="+v)
	}
	return env
}

// formatLogs builds the invocation's log text as Lambda writes it. d is
// the whole invocation, a cold start's init included: Duration leaves the
// init out, Billed Duration is d rounded up to the next ms (a provided
// runtime is billed for its init). Max Memory Used (memMB, 0 when unknown:
// in-process functions) is the environment's peak so far.
func (f *function) formatLogs(id string, body []byte, d, initDur time.Duration, memMB int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "START RequestId: %s Version: $LATEST\n", id)
	b.Write(body)
	if len(body) > 0 && body[len(body)-1] != '\n' {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "END RequestId: %s\n", id)
	billed := (d + time.Millisecond - 1) / time.Millisecond
	if initDur > 0 && initDur < d {
		d -= initDur
	}
	ms := float64(d.Microseconds()) / 1000
	fmt.Fprintf(&b, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB",
		id, ms, int64(billed), f.cfg.MemoryMB)
	if memMB > 0 {
		fmt.Fprintf(&b, "\tMax Memory Used: %d MB", memMB)
	}
	if initDur > 0 {
		fmt.Fprintf(&b, "\tInit Duration: %.2f ms", float64(initDur.Microseconds())/1000)
	}
	b.WriteByte('\n')
	return []byte(b.String())
}

// errorBody renders an AWS service error body.
func errorBody(msg string) []byte {
	b, _ := json.Marshal(map[string]string{"Type": "User", "message": msg})
	return b
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "."
}

func requestID() string { return uuid.NewString() }
