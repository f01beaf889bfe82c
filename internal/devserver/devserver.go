// Package devserver starts a Temporal dev server (the `temporal` CLI's
// `server start-dev`) as a child process: on loopback ports, with its own
// temporary database, with the recommended local dynamic config, and stops
// it afterwards. `cloudbutton bench --temporal dev` uses it directly; tests
// use it through internal/temporaltest, which adds the testing glue (one
// shared server per test binary, skips when the CLI is missing). This
// package does not import testing.
//
// A Server's Stop and Log may be called from any goroutine, Stop more
// than once.
package devserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
	"go.temporal.io/api/workflowservice/v1"
	tclient "go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
)

// InstallCommand installs the Temporal CLI.
const InstallCommand = "go install github.com/temporalio/cli/cmd/temporal@v1.5.1"

// ErrNoCLI is returned when the temporal CLI is on neither PATH nor
// $(go env GOPATH)/bin.
var ErrNoCLI = errors.New("devserver: the temporal CLI is not installed; install it with: " + InstallCommand)

// RecommendedDynamicConfig is the dynamic config used for local runs: the
// dev server's default transfer poll rate (20/s on its single shard) caps
// a sequence at about 100 ms per step, and one task-queue partition avoids
// multi-second stragglers with few pollers.
var RecommendedDynamicConfig = []string{
	"history.transferProcessorMaxPollRPS=10000",
	"history.timerProcessorMaxPollRPS=10000",
	"matching.numTaskqueueReadPartitions=1",
	"matching.numTaskqueueWritePartitions=1",
}

// Server is a running dev server.
type Server struct {
	// HostPort is the frontend's loopback address.
	HostPort string
	// Namespace is "default".
	Namespace string

	cmd     *exec.Cmd
	dir     string
	ownDir  bool
	logBuf  *syncbuf.Buffer
	done    chan struct{}
	waitErr error
	once    sync.Once
}

// Options configures Start.
type Options struct {
	// Dir holds the database and the log; empty means a new temporary
	// directory, removed by Stop.
	Dir string
	// ReadyTimeout bounds the wait for the server (default 60s).
	ReadyTimeout time.Duration
	// ExtraArgs are appended to the command line.
	ExtraArgs []string
	// Pragmas are SQLite pragmas of the server's database (default
	// DefaultPragmas).
	Pragmas []string
}

// DefaultPragmas trade durability across machine crashes, which tests
// do not need, for speed: the dev server's SQLite file otherwise syncs
// on every commit.
var DefaultPragmas = []string{"journal_mode=wal", "synchronous=off"}

// FindCLI returns the path of the temporal CLI: $TEMPORAL_CLI, PATH, or
// $(go env GOPATH)/bin.
func FindCLI() (string, error) {
	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p, nil
	}
	var dirs []string
	if gp := os.Getenv("GOPATH"); gp != "" {
		dirs = append(dirs, filepath.SplitList(gp)...)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		dirs = append(dirs, filepath.SplitList(string(bytes.TrimSpace(out)))...)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "bin", "temporal")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", ErrNoCLI
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts a dev server and waits until its frontend answers.
func Start(ctx context.Context, opts Options) (*Server, error) {
	cli, err := FindCLI()
	if err != nil {
		return nil, err
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 60 * time.Second
	}
	s := &Server{Namespace: "default", dir: opts.Dir, logBuf: &syncbuf.Buffer{Limit: 1 << 20}, done: make(chan struct{})}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "cloudbutton-devserver-"); err != nil {
			return nil, fmt.Errorf("devserver: %w", err)
		}
		s.ownDir = true
	}
	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = FreePort(); err != nil {
			s.cleanup()
			return nil, fmt.Errorf("devserver: find a free port: %w", err)
		}
	}
	s.HostPort = "127.0.0.1:" + strconv.Itoa(ports[0])
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(ports[0]),
		"--http-port", strconv.Itoa(ports[1]),
		"--metrics-port", strconv.Itoa(ports[2]),
		"--headless",
		"--db-filename", filepath.Join(s.dir, "temporal.db"),
		"--log-level", "warn",
	}
	for _, kv := range RecommendedDynamicConfig {
		args = append(args, "--dynamic-config-value", kv)
	}
	pragmas := opts.Pragmas
	if pragmas == nil {
		pragmas = DefaultPragmas
	}
	for _, p := range pragmas {
		args = append(args, "--sqlite-pragma", p)
	}
	args = append(args, opts.ExtraArgs...)
	s.cmd = exec.Command(cli, args...)
	s.cmd.Stdout = s.logBuf
	s.cmd.Stderr = s.logBuf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.cleanup()
		return nil, fmt.Errorf("devserver: start %s: %w", cli, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx, opts.ReadyTimeout); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		select {
		case <-s.done:
			return fmt.Errorf("devserver: dev server exited before it was ready (%v); its output:\n%s", s.waitErr, s.logBuf.String())
		default:
		}
		last = s.check(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devserver: dev server on %s not ready after %s: %v; its output:\n%s", s.HostPort, timeout, last, s.logBuf.String())
		case <-s.done:
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// check dials the frontend and checks the default namespace exists.
func (s *Server) check(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := tclient.DialContext(cctx, tclient.Options{
		HostPort: s.HostPort, Namespace: s.Namespace,
		Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.WorkflowService().DescribeNamespace(cctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.Namespace})
	return err
}

// Log returns what the server printed so far.
func (s *Server) Log() string { return s.logBuf.String() }

// Stop stops the server (SIGTERM, then SIGKILL after 10s) and removes its
// temporary directory. It is safe to call more than once.
func (s *Server) Stop() {
	s.once.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
				<-s.done
			}
		}
		s.cleanup()
	})
}

func (s *Server) cleanup() {
	if s.ownDir {
		_ = os.RemoveAll(s.dir)
	}
}
