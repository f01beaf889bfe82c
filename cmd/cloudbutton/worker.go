package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudbutton/cloudbutton/worker"
)

func newWorkerCmd(cfg *engineConfig) *cobra.Command {
	var concurrency int
	var inv invokerConfig
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker for the orchestrators and activities built into this binary",
		Long: `Run a worker for the orchestrators and activities built into this binary
until interrupted (Ctrl-C stops it gracefully). On the embedded engine, one
worker runs per database file; on Temporal, any number.`,
		Example: `  cloudbutton worker --db app.db
  cloudbutton worker --engine temporal --address 127.0.0.1:7233 --task-queue cloudbutton
  cloudbutton worker --db app.db --invoker lambda --lambda-endpoint http://127.0.0.1:9001 --lambda-function activities`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withEngine(cmd, cfg, true, func(ctx context.Context, e engine) error {
				log := slog.New(slog.NewTextHandler(os.Stderr, nil))
				invoker, err := inv.invoker(ctx)
				if err != nil {
					return err
				}
				w := worker.New(e, worker.Options{MaxConcurrentActivities: concurrency, Logger: log, Invoker: invoker})
				w.RegisterOrchestrators(builtinOrchestrators()...)
				w.RegisterActivities(builtinActivities()...)
				if err := w.Start(ctx); err != nil {
					return err
				}
				names := w.Registry().OrchestratorNames()
				fmt.Fprintf(cmd.ErrOrStderr(), "worker running on %s (orchestrators: %s); Ctrl-C to stop\n",
					cfg.describe(), strings.Join(names, ", "))
				<-ctx.Done()
				return w.Stop(context.Background())
			})
		},
	}
	cmd.Flags().IntVar(&concurrency, "concurrency", 256, "activities running at once")
	inv.addFlags(cmd.Flags())
	return cmd
}

func (c *engineConfig) describe() string {
	if c.engine == "temporal" {
		return fmt.Sprintf("Temporal %s (namespace %s, task queue %s)", c.address, c.namespace, c.taskQueue)
	}
	return "the embedded engine, " + c.db
}
