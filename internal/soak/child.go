package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/worker"
)

// The environment of a soak's child processes: what RunChild reads.
const (
	// EnvRole is "worker" or "loader N".
	EnvRole = "CLOUDBUTTON_SOAK_ROLE"
	// EnvDir is the soak directory.
	EnvDir = "CLOUDBUTTON_SOAK_DIR"
)

// readyLine is what a worker child prints once its worker runs.
const readyLine = "ready"

// IsChild reports whether this process was started by Run as one of its
// children (a worker or a loader).
func IsChild() bool { return os.Getenv(EnvRole) != "" }

// RunChild runs the role this process was started for by Run (see
// Options.Command): the worker, until its standard input closes or it is
// killed, or a loader, until it is told to stop and its instances have
// ended. Its standard input is the parent's pipe.
func RunChild(ctx context.Context) error {
	dir := os.Getenv(EnvDir)
	role := os.Getenv(EnvRole)
	if dir == "" || role == "" {
		return fmt.Errorf("soak: %s and %s are not set: not a soak child", EnvRole, EnvDir)
	}
	c, err := readConfig(dir)
	if err != nil {
		return err
	}
	switch {
	case role == "worker":
		return runWorker(ctx, dir, c, os.Stdin, os.Stdout, os.Stderr)
	case strings.HasPrefix(role, "loader "):
		i, err := strconv.Atoi(strings.TrimPrefix(role, "loader "))
		if err != nil {
			return fmt.Errorf("soak: bad role %q", role)
		}
		return runLoader(ctx, dir, c, i, os.Stdin, os.Stderr)
	}
	return fmt.Errorf("soak: unknown role %q", role)
}

// runWorker hosts the workloads on the soak's database and logs their
// activities' executions. It prints readyLine once the worker has started
// (recovery done) and stops gracefully when stdin closes.
func runWorker(ctx context.Context, dir string, c config, stdin io.Reader, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	eng, err := embedded.Open(ctx, filepath.Join(dir, dbFile), embedded.Options{PollInterval: c.Poll, Logger: log})
	if err != nil {
		return err
	}
	defer eng.Close()
	el, err := openExecLog(filepath.Join(dir, execFile))
	if err != nil {
		return err
	}
	defer el.close()
	w := worker.New(eng, worker.Options{Logger: log})
	w.RegisterOrchestrators(Orchestrators()...)
	w.RegisterActivities(Activities()...)
	if err := w.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, readyLine)
	_, _ = io.Copy(io.Discard, stdin) // until the parent closes it (or dies)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return w.Stop(sctx)
}

// stdinSignals turns a child's stdin into signals: a "stop" line closes
// stop; end of input (the parent closed it, or died) closes gone.
func stdinSignals(stdin io.Reader) (stop, gone <-chan struct{}) {
	s, g := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(g)
		sc := bufio.NewScanner(stdin)
		stopped := false
		for sc.Scan() {
			if sc.Text() == "stop" && !stopped {
				stopped = true
				close(s)
			}
		}
		if !stopped {
			close(s)
		}
	}()
	return s, g
}

// isTerminalErr reports client errors that retrying cannot help.
func isTerminalErr(err error) bool {
	return err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
