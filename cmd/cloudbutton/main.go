// Command cloudbutton is the CloudButton CLI: start, observe and control
// orchestrations on the embedded engine (a SQLite file) or on Temporal,
// run a worker, replay histories, serve functions locally, and benchmark.
//
// Exit codes: 0 success; 1 error; 2 bad usage; 3 instance not found;
// 4 the orchestration ended Failed or Terminated (wait, start --wait);
// 5 timed out waiting.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cloudbutton/cloudbutton/client"
)

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitNotFound = 3
	exitFailed   = 4
	exitTimeout  = 5
)

// exitError carries an exit code.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &codeError{code, err} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(root.ErrOrStderr(), "Error:", err)
	var ce *codeError
	switch {
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, client.ErrNotFound):
		return exitNotFound
	case errors.Is(err, errUsage):
		return exitUsage
	}
	return exitError
}

var errUsage = errors.New("usage")

func newRootCmd() *cobra.Command {
	cfg := &engineConfig{}
	root := &cobra.Command{
		Use:   "cloudbutton",
		Short: "Durable serverless orchestration: start, observe and control orchestrations",
		Long: `cloudbutton controls orchestrations on the embedded engine (a SQLite file,
the default) or on a Temporal cluster (--engine temporal).

Exit codes: 0 success, 1 error, 2 bad usage, 3 instance not found,
4 orchestration Failed or Terminated, 5 timed out.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return withCode(exitUsage, err) })
	cfg.addFlags(root)
	root.AddCommand(
		newStartCmd(cfg), newStatusCmd(cfg), newListCmd(cfg), newWaitCmd(cfg), newHistoryCmd(cfg),
		newRaiseCmd(cfg), newTerminateCmd(cfg), newSuspendCmd(cfg), newResumeCmd(cfg), newPurgeCmd(cfg),
		newReplayCmd(), newWorkerCmd(cfg), newBenchCmd(), newFunctionsCmd(),
	)
	return root
}

// exactArgs is cobra.ExactArgs with the usage exit code.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return withCode(exitUsage, err)
		}
		return nil
	}
}

func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(lo, hi)(cmd, args); err != nil {
			return withCode(exitUsage, err)
		}
		return nil
	}
}
