package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"
)

func newRewindCmd(cfg *engineConfig) *cobra.Command {
	var reason string
	var wait, noProgress bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "rewind ID",
		Short: "Restart a Failed or Terminated instance from its failed step, keeping the results of the steps that succeeded",
		Long: `Rewind a Failed or Terminated instance: the steps that succeeded keep their
results and are not run again; the failed steps (and failed sub-orchestrations)
run again, with a fresh attempt count, under the code the worker runs now (a
fixed bug). A Completed or running instance cannot be rewound (exit 1, nothing
changes); an unknown one exits 3. On Temporal this is a reset to the last
workflow task completed before the first failure: activities whose results
came after it run again too.`,
		Example: `  cloudbutton rewind order-1 --reason "fixed the tax bug"
  cloudbutton rewind order-1 --wait`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withEngine(cmd, cfg, false, func(ctx context.Context, e engine) error {
				if err := e.Rewind(ctx, args[0], reason); err != nil {
					return err
				}
				if !wait {
					return nil
				}
				return waitAndPrint(cmd, e, args[0], timeout, !noProgress)
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "rewound from the CLI", "reason recorded in history")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the instance to end and print its result")
	cmd.Flags().BoolVar(&noProgress, "no-progress", false, "with --wait: no progress bar")
	cmd.Flags().Var(nonNegative{&timeout}, "timeout", "with --wait: give up after this long (exit 5)")
	return cmd
}
