package functionhost

import (
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
)

// pool is a version's execution environments (bootstrap processes).
type pool struct {
	mu      sync.Mutex
	idle    []*environment // warm environments, most recently used last
	live    map[*environment]struct{}
	nextID  int
	closed  bool
	retired bool // see retire
}

func (p *pool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.live)
}

// close kills every environment, busy ones included.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	envs := make([]*environment, 0, len(p.live))
	for env := range p.live {
		envs = append(envs, env)
	}
	p.live = map[*environment]struct{}{}
	p.idle = nil
	p.mu.Unlock()
	for _, env := range envs {
		env.kill()
	}
}

// result is an invocation's outcome with its log text.
type result struct {
	outcome
	logs []byte
}

// invoke runs one invocation under a slot the caller holds.
func (v *version) invoke(ctx context.Context, inv *invocation) result {
	f := v.fn
	f.stats.invocations.Add(1)
	inv.timeout = v.cfg.Timeout
	inv.done = make(chan outcome, 1)
	start := time.Now()
	var (
		o       outcome
		initDur time.Duration
		logs    []byte
	)
	if v.handler != nil {
		o = v.invokeInProcess(ctx, inv)
	} else {
		o, initDur, logs = v.invokeBootstrap(inv)
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
	return result{outcome: o, logs: v.formatLogs(inv.id, logs, time.Since(start), initDur, inv.memUsedMB)}
}

// invokeInProcess runs the handler in a goroutine under the function
// timeout; a handler that ignores its context is abandoned at the timeout,
// or when the caller goes (the client hung up, the host is closing).
func (v *version) invokeInProcess(parent context.Context, inv *invocation) outcome {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), inv.timeout)
	defer cancel()
	// What a Lambda runtime gives its handler (aws-lambda-go's
	// lambdacontext): the trace context travels in the client context.
	cc, _ := lambdawire.DecodeClientContext(inv.clientContext) // checked by parseInvoke
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: inv.id, InvokedFunctionArn: inv.arn, ClientContext: cc})
	stop := context.AfterFunc(parent, cancel)
	defer stop()
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- errorOutcome(lambdawire.ErrorResponse{Type: "Panic", Message: fmt.Sprint(r), StackTrace: lambdawire.ParseStack(string(debug.Stack()))})
			}
		}()
		out, err := v.handler.Invoke(ctx, inv.payload)
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
		return timeoutOutcome(inv)
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

func (v *version) invokeBootstrap(inv *invocation) (o outcome, initDur time.Duration, logs []byte) {
	for try := 0; ; try++ {
		env, cold, err := v.takeEnvironment()
		if err != nil {
			return errorOutcome(lambdawire.ErrorResponse{Type: lambdawire.TypeInit, Message: err.Error()}), 0, nil
		}
		env.logs.begin()
		o, delivered := env.run(inv, v.fn.host.opts.InitTimeout)
		logs = env.logs.end()
		inv.memUsedMB = env.box.maxMemoryMB()
		if cold {
			select {
			case <-env.ready:
				initDur = env.initDur
			default:
			}
		}
		v.putEnvironment(env)
		if delivered || cold || try >= maxRedeliveries {
			return o, initDur, logs
		}
		v.fn.host.log.Debug("functionhost: warm environment exited before taking an invocation; retrying on another",
			"function", v.fn.name, "version", v.name, "env", env.id)
	}
}

// takeEnvironment returns a warm environment, or starts one (a cold start).
func (v *version) takeEnvironment() (*environment, bool, error) {
	p := &v.pool
	p.mu.Lock()
	for len(p.idle) > 0 {
		env := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !env.isExited() {
			p.mu.Unlock()
			return env, false, nil
		}
		delete(p.live, env)
		v.fn.stats.crashes.Add(1)
		go env.kill() // reaps its listener
	}
	if p.closed {
		p.mu.Unlock()
		return nil, false, fmt.Errorf("functionhost: function %q: the host is closing", v.fn.name)
	}
	p.nextID++
	id := p.nextID
	p.mu.Unlock()

	env, err := startEnvironment(v, id)
	if err != nil {
		return nil, false, err
	}
	v.fn.stats.coldStarts.Add(1)
	v.fn.host.log.Debug("functionhost: cold start", "function", v.fn.name, "version", v.name, "env", id)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		go env.kill()
		return nil, false, fmt.Errorf("functionhost: function %q: the host is closing", v.fn.name)
	}
	p.live[env] = struct{}{}
	return env, true, nil
}

// putEnvironment returns an environment to the warm pool, or drops it if
// its process is gone.
func (v *version) putEnvironment(env *environment) {
	p := &v.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if env.isExited() || p.closed || p.retired {
		delete(p.live, env)
		go env.kill()
		return
	}
	env.lastUsed = time.Now()
	p.idle = append(p.idle, env)
}

// reap stops environments idle for longer than the idle timeout.
func (v *version) reap(now time.Time) {
	p := &v.pool
	p.mu.Lock()
	var stop []*environment
	keep := p.idle[:0]
	for _, env := range p.idle {
		if now.Sub(env.lastUsed) >= v.cfg.IdleTimeout || env.isExited() {
			stop = append(stop, env)
			delete(p.live, env)
		} else {
			keep = append(keep, env)
		}
	}
	for i := len(keep); i < len(p.idle); i++ {
		p.idle[i] = nil
	}
	p.idle = keep
	p.mu.Unlock()
	for _, env := range stop {
		v.fn.host.log.Debug("functionhost: idle shutdown", "function", v.fn.name, "version", v.name, "env", env.id)
		env.kill()
	}
}

// processEnv is the environment of a bootstrap process, as Lambda sets it.
func (v *version) processEnv(runtimeAPI string, id int) []string {
	f := v.fn
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME=" + f.name,
		"AWS_LAMBDA_FUNCTION_VERSION=" + v.name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(v.cfg.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + f.name,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + time.Now().UTC().Format("2006/01/02") + "/[" + v.name + "]local-" + strconv.Itoa(id),
		"AWS_REGION=" + f.host.opts.Region,
		"AWS_DEFAULT_REGION=" + f.host.opts.Region,
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"LAMBDA_TASK_ROOT=" + dirOf(v.cfg.Bootstrap),
		"LAMBDA_RUNTIME_DIR=" + dirOf(v.cfg.Bootstrap),
		"_HANDLER=bootstrap",
		"TZ=:UTC",
		"PATH=" + lambdaPath(),
	}
	for k, val := range v.cfg.Environment {
		env = append(env, k+"="+val)
	}
	return env
}

// formatLogs builds the invocation's log text as Lambda writes it. d is
// the whole invocation, a cold start's init included: Duration leaves the
// init out, Billed Duration is d rounded up to the next ms (a provided
// runtime is billed for its init). Max Memory Used (memMB, 0 when unknown:
// in-process functions) is the environment's peak so far.
func (v *version) formatLogs(id string, body []byte, d, initDur time.Duration, memMB int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "START RequestId: %s Version: %s\n", id, v.name)
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
		id, ms, int64(billed), v.cfg.MemoryMB)
	if memMB > 0 {
		fmt.Fprintf(&b, "\tMax Memory Used: %d MB", memMB)
	}
	if initDur > 0 {
		fmt.Fprintf(&b, "\tInit Duration: %.2f ms", float64(initDur.Microseconds())/1000)
	}
	b.WriteByte('\n')
	return []byte(b.String())
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "."
}
