// Package lambdatest is a reference for Lambda behaviour in tests: it runs
// AWS's Runtime Interface Emulator (RIE, aws-lambda-rie) on loopback, and
// provides test functions that run unchanged on RIE, on the local function
// host (faas/functionhost) and on AWS Lambda.
//
// Start runs RIE with one bootstrap and returns its endpoint, for
// awslambda.NewClient's ClientConfig.Endpoint (any region, any static
// credentials). RIE serves one function, invoked as FunctionName whatever
// Options.FunctionName says, and one invocation at a time: a second one
// while the first runs crashes it (a nil dereference after "ReserveFailed:
// AlreadyReserved"), which fails the test at cleanup.
//
//	url := lambdatest.Start(t, lambdatest.BuildPlain(t), lambdatest.Options{Timeout: time.Second})
//	client, _ := awslambda.NewClient(ctx, awslambda.ClientConfig{Region: "us-east-1", Endpoint: url,
//	    AccessKeyID: "test", SecretAccessKey: "test"})
//	out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(lambdatest.FunctionName),
//	    Payload: []byte(`{"case":"echo"}`)})
//
// The test functions select what an invocation does by the payload's
// "case" (or, with CloudButton's invocation envelope, its "activity", the
// parameters then in "input"): BuildPlain builds a plain aws-lambda-go
// function (see its cases in internal/lambdatest/plainfunc), and
// WriteCurlRuntime writes a custom runtime in bash and curl (cases in
// curlruntime.sh). The Case constants name them.
//
// What RIE answers (checked against its source and live, version
// InstallCommand), compared with AWS Lambda:
//
//   - a result: 200, the body as the function sent it;
//   - a function error: 200 with the error body, but no
//     X-Amz-Function-Error header (AWS sends "Unhandled");
//   - a function timeout: 200, no header, the plain-text body
//     "Task timed out after N.00 seconds" (AWS: X-Amz-Function-Error and
//     {"errorType":"Sandbox.Timedout",...});
//   - the runtime exiting mid-invocation: 502 with
//     {"errorType":"Runtime.ExitError","errorMessage":"RequestId: ... Error:
//     Runtime exited with error: exit status 1"} (AWS: 200 and the header);
//     an aws-lambda-go panic: 502 with the panic's error body (the runtime
//     reports it, then exits);
//   - /runtime/init/error during init: 502 with the posted body; an exit
//     during init without it: 502 with an empty body;
//   - the runtime gets Lambda-Runtime-Aws-Request-Id, -Deadline-Ms,
//     -Invoked-Function-Arn and -Client-Context (X-Amz-Client-Context,
//     decoded), but no Lambda-Runtime-Trace-Id, whatever X-Amzn-Trace-Id
//     says;
//   - no X-Amz-Log-Result (LogType Tail is ignored): the START, END and
//     REPORT lines go to RIE's output (Options.Output), REPORT with
//     "Init Duration" first and Max Memory Used equal to Memory Size.
package lambdatest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
)

// InstallCommand installs the RIE version this package is checked against.
const InstallCommand = "go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// FunctionName is the name RIE serves its function under: its only
// endpoint is /2015-03-31/functions/function/invocations.
const FunctionName = "function"

// ErrNoRIE is returned by FindRIE when aws-lambda-rie is not installed.
var ErrNoRIE = errors.New("lambdatest: aws-lambda-rie is not installed (not on PATH, nor in $(go env GOBIN) or $(go env GOPATH)/bin); install it with: " + InstallCommand)

// Options configures Start.
type Options struct {
	// Timeout is the function timeout (AWS_LAMBDA_FUNCTION_TIMEOUT). RIE
	// counts whole seconds: it is rounded up. Default 3s, Lambda's
	// default (RIE's own is 300s).
	Timeout time.Duration
	// MemoryMB is the memory size (AWS_LAMBDA_FUNCTION_MEMORY_SIZE) in the
	// function's environment and the REPORT line; not enforced. Default
	// 128 (RIE's own is 3008).
	MemoryMB int
	// FunctionName is AWS_LAMBDA_FUNCTION_NAME, in the function's
	// environment and its invoked ARN
	// (arn:aws:lambda:us-east-1:012345678912:function:NAME). Default
	// FunctionName. Invocations still go to FunctionName.
	FunctionName string
	// Env is added to the function's environment (RIE passes its own on).
	// The function also gets PATH, HOME and a TMPDIR removed at cleanup.
	Env map[string]string
	// ReadyTimeout bounds the wait for RIE to listen (default 60s).
	ReadyTimeout time.Duration
	// Output, when set, also receives RIE's output: its logs, the
	// function's stdout and stderr, the START, END and REPORT lines. It
	// is written from another goroutine until cleanup (copied from a
	// pipe, so a REPORT line may arrive just after the invocation's
	// response), so reading it meanwhile needs a writer safe for that
	// (internal/syncbuf.Buffer).
	// Whatever Output is, the output is logged when the test failed.
	Output io.Writer
	// LogLevel is RIE's --log-level (default "info").
	LogLevel string
}

// FindRIE returns the path of aws-lambda-rie: on PATH, or in
// $(go env GOBIN), $(go env GOPATH)/bin or ~/go/bin. The error is ErrNoRIE.
func FindRIE() (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	var dirs []string
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
		if len(lines) == 2 {
			if gobin := string(bytes.TrimSpace(lines[0])); gobin != "" {
				dirs = append(dirs, gobin)
			}
			for _, gp := range filepath.SplitList(string(bytes.TrimSpace(lines[1]))) {
				dirs = append(dirs, filepath.Join(gp, "bin"))
			}
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "aws-lambda-rie")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", ErrNoRIE
}

// Start runs RIE with bootstrap on 127.0.0.1 and returns its endpoint
// ("http://127.0.0.1:PORT"), once it accepts connections. RIE, the
// function's processes and their temporary directory are stopped and
// removed at tb's cleanup. A missing aws-lambda-rie fails tb with
// InstallCommand. RIE starts the function at the first invocation (a cold
// start), so a bootstrap that cannot run fails that invocation, not Start.
func Start(tb testing.TB, bootstrap string, opts Options) string {
	tb.Helper()
	rie, err := FindRIE()
	if err != nil {
		tb.Fatal(err)
	}
	abs, err := filepath.Abs(bootstrap)
	if err != nil {
		tb.Fatalf("lambdatest: bootstrap %q: %v", bootstrap, err)
	}
	if fi, err := os.Stat(abs); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		tb.Fatalf("lambdatest: bootstrap %s is not an executable file (%v)", abs, err)
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 60 * time.Second
	}
	env := environment(tb, opts)
	// A free port may be taken between finding it and RIE binding it:
	// RIE then exits at once, and another pair of ports is tried.
	var last error
	for range 3 {
		p := &process{out: &syncbuf.Buffer{Limit: 4 << 20}, done: make(chan struct{})}
		url, err := p.start(rie, abs, env, opts)
		if err == nil {
			running.Store(url, p)
			tb.Cleanup(func() {
				select {
				case <-p.done:
					tb.Errorf("lambdatest: aws-lambda-rie (%s) exited during the test (%v)", url, p.waitErr)
				default:
				}
				p.stop()
				running.Delete(url)
				if tb.Failed() {
					tb.Logf("lambdatest: output of aws-lambda-rie (%s):\n%s", url, tail(p.out.String(), 64<<10))
				}
			})
			return url
		}
		last = err
		if !errors.Is(err, errExited) {
			break
		}
	}
	tb.Fatal(last)
	return ""
}

func environment(tb testing.TB, opts Options) []string {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	memory := opts.MemoryMB
	if memory <= 0 {
		memory = 128
	}
	name := opts.FunctionName
	if name == "" {
		name = FunctionName
	}
	home, _ := os.UserHomeDir()
	vars := map[string]string{
		"PATH":                            os.Getenv("PATH"),
		"HOME":                            home,
		"TMPDIR":                          tb.TempDir(),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(int(math.Ceil(timeout.Seconds()))),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(memory),
		"AWS_LAMBDA_FUNCTION_NAME":        name,
	}
	for k, v := range opts.Env {
		vars[k] = v
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env
}

// running maps the URLs of running RIEs to their process (for tests).
var running sync.Map

var errExited = errors.New("lambdatest: aws-lambda-rie exited before it was ready")

// process is one aws-lambda-rie and the processes it started.
type process struct {
	cmd     *exec.Cmd
	out     *syncbuf.Buffer
	done    chan struct{}
	waitErr error
	once    sync.Once
}

func (p *process) start(rie, bootstrap string, env []string, opts Options) (string, error) {
	ports := make([]int, 2)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("lambdatest: find a free port: %w", err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	apiAddr := "127.0.0.1:" + strconv.Itoa(ports[1])
	logLevel := opts.LogLevel
	if logLevel == "" {
		logLevel = "info"
	}
	// Only the bootstrap after the flags: RIE takes a further argument
	// as the handler.
	p.cmd = exec.Command(rie, "--log-level", logLevel,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", apiAddr,
		bootstrap)
	p.cmd.Dir = filepath.Dir(bootstrap) // the function's working directory, like /var/task
	p.cmd.Env = env
	var w io.Writer = p.out
	if opts.Output != nil {
		w = io.MultiWriter(p.out, opts.Output)
	}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// An orphaned grandchild holding the output pipe must not keep Wait
	// waiting.
	p.cmd.WaitDelay = 2 * time.Second
	if err := p.cmd.Start(); err != nil {
		return "", fmt.Errorf("lambdatest: start %s: %w", rie, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(opts.ReadyTimeout, addr, apiAddr); err != nil {
		p.stop()
		return "", err
	}
	return (&url.URL{Scheme: "http", Host: addr}).String(), nil
}

// waitReady polls until RIE's invoke endpoint and its Runtime API both
// accept connections: RIE binds the latter in the background and exits
// if it cannot.
func (p *process) waitReady(timeout time.Duration, addrs ...string) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("%w (%v); its output:\n%s", errExited, p.waitErr, p.out.String())
		default:
		}
		var err error
		for _, a := range addrs {
			var c net.Conn
			if c, err = net.DialTimeout("tcp", a, time.Second); err != nil {
				break
			}
			_ = c.Close()
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lambdatest: aws-lambda-rie not listening on %v after %s: %v; its output:\n%s", addrs, timeout, err, p.out.String())
		}
		select {
		case <-p.done:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop kills the function's processes, then RIE. RIE runs each runtime
// in a process group of its own, which its process group does not
// include: the groups are found (as RIE's descendants) while RIE is still
// there to be their parent, and killed first.
func (p *process) stop() {
	p.once.Do(func() {
		if p.cmd == nil || p.cmd.Process == nil {
			return
		}
		pid := p.cmd.Process.Pid
		select {
		case <-p.done:
		default:
			for _, pgid := range descendantGroups(pid) {
				if pgid != pid {
					_ = syscall.Kill(-pgid, syscall.SIGKILL)
				}
			}
			_ = syscall.Kill(-pid, syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				<-p.done
			}
		}
	})
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}
