package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/internal/errkind"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// Registrations are a program's orchestrators and activities: what the
// worker command hosts, what replay checks histories against, and what
// functions serve runs in-process (see the package doc). The zero value
// registers nothing: the commands that only use the client still work.
type Registrations struct {
	// Orchestrators are hosted by worker and checked by replay.
	Orchestrators []orchestration.Definition
	// Activities are hosted by worker and run by the in-process
	// functions of functions serve.
	Activities []activity.Definition
}

// The exit codes of Run and Main.
const (
	ExitOK       = 0 // success
	ExitError    = 1 // an error
	ExitUsage    = 2 // bad usage, or nothing registered for worker or replay
	ExitNotFound = 3 // the instance does not exist
	ExitFailed   = 4 // the orchestration ended Failed or Terminated
	ExitTimeout  = 5 // --timeout passed first
)

// codeError carries an exit code.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &codeError{code, err} }

// Main runs the CLI on the process's arguments with the program's
// registrations, and exits with Run's exit code. Interrupt and SIGTERM
// cancel the command's context: a worker stops gracefully. Call it from
// main; it does not return.
func Main(r Registrations) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, r, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Run runs the CLI with args (without the program name) and returns its
// exit code (ExitOK, ExitError, ...). Output goes to stdout, logs, errors
// and progress to stderr. Cancelling ctx stops the running command (a
// worker stops gracefully and Run returns ExitOK). Run may be called
// from several goroutines at once: each call has its own commands and
// flags.
func Run(ctx context.Context, r Registrations, args []string, stdout, stderr io.Writer) int {
	return RunWithStdin(ctx, r, args, os.Stdin, stdout, stderr)
}

// RunWithStdin is Run with stdin as the standard input, which the
// commands read only for a JSON argument given as "-".
func RunWithStdin(ctx context.Context, r Registrations, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(r)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(root.ErrOrStderr(), "Error:", err)
	var ce *codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitCode(errkind.Of(err))
}

// exitCode is the exit code of an error of kind k: the same kinds as the
// HTTP API's statuses (internal/errkind decides which error is which).
func exitCode(k errkind.Kind) int {
	switch k {
	case errkind.NotFound:
		return ExitNotFound
	case errkind.Failed:
		return ExitFailed
	case errkind.Timeout:
		return ExitTimeout
	case errkind.BadInput:
		return ExitUsage
	}
	return ExitError
}

func newRootCmd(r Registrations) *cobra.Command {
	cfg := &engineConfig{}
	root := &cobra.Command{
		Use:   "cloudbutton",
		Short: "Durable serverless orchestration: start, observe and control orchestrations",
		Long: `cloudbutton controls orchestrations on the embedded engine (a SQLite file,
the default) or on a Temporal cluster (--engine temporal). Its worker hosts,
and replay checks, the orchestrators and activities this program registers
(package cli: cli.Main); the other commands work on any instance.

Exit codes: 0 success, 1 error, 2 bad usage, 3 instance not found,
4 orchestration Failed or Terminated, 5 timed out.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Runnable with its own Args, so that an unknown command is a
		// usage error (cobra's own check returns a plain error).
		Args: unknownCommand,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if _, rest, ok := strings.Cut(err.Error(), "unknown shorthand flag: '"); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			err = fmt.Errorf("%w (a negative number as JSON? put -- before the arguments: start NAME -- -1)", err)
		}
		return withCode(ExitUsage, err)
	})
	cfg.addFlags(root)
	root.AddCommand(
		newStartCmd(cfg), newStatusCmd(cfg), newListCmd(cfg), newWaitCmd(cfg), newHistoryCmd(cfg),
		newRaiseCmd(cfg), newQueryCmd(cfg), newUpdateCmd(cfg), newTerminateCmd(cfg), newSuspendCmd(cfg), newResumeCmd(cfg), newPurgeCmd(cfg),
		newReplayCmd(r), newWorkerCmd(cfg, r), newServeCmd(cfg, r), newBenchCmd(), newSoakCmd(), newFunctionsCmd(r),
		newRewindCmd(cfg),
		newScheduleCmd(cfg),
	)
	return root
}

// exactArgs is cobra.ExactArgs with the usage exit code.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return withCode(ExitUsage, err)
		}
		return nil
	}
}

func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(lo, hi)(cmd, args); err != nil {
			return withCode(ExitUsage, err)
		}
		return nil
	}
}
