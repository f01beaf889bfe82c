package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/internal/bench"
	"github.com/cloudbutton/cloudbutton/internal/devserver"
	"github.com/cloudbutton/cloudbutton/worker"
)

func newBenchCmd() *cobra.Command {
	var runs int
	var small bool
	var only, temporalAddr string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark the engines: fan-out/fan-in, sequences, many small orchestrations",
		Long: `Run the standard workloads (in-process no-op activities, durable) on the
embedded engine and, with --temporal, on Temporal, and print a table: median,
min and max of --runs runs after a warm-up, time per step, steps/s, peak heap,
and each engine's median against the first engine's.

--temporal dev starts a Temporal dev server (the temporal CLI must be
installed: go install github.com/temporalio/cli/cmd/temporal@v1.5.1) with
the recommended local settings; --temporal HOST:PORT uses a running one.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			ws := bench.Standard(small)
			if only != "" {
				var keep []bench.Workload
				for _, w := range ws {
					if strings.Contains(w.Name, only) {
						keep = append(keep, w)
					}
				}
				ws = keep
			}
			var results []bench.Result
			dir, err := os.MkdirTemp("", "cloudbutton-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			quiet := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			emb, err := embedded.Open(ctx, filepath.Join(dir, "bench.db"), embedded.Options{Logger: quiet})
			if err != nil {
				return err
			}
			defer emb.Close()
			rs, err := benchEngine(ctx, cmd, "embedded", emb, emb, ws, runs)
			if err != nil {
				return err
			}
			results = append(results, rs...)
			if temporalAddr != "" {
				addr := temporalAddr
				if addr == "dev" {
					srv, err := startDevServer(ctx, cmd)
					if err != nil {
						return err
					}
					defer srv.Stop()
					addr = srv.HostPort
				}
				te, err := temporal.Open(ctx, temporal.Options{HostPort: addr, TaskQueue: "cloudbutton-bench-" + fmt.Sprint(time.Now().UnixNano()), Logger: quiet})
				if err != nil {
					return err
				}
				defer te.Close()
				rs, err := benchEngine(ctx, cmd, "temporal", te, te, ws, runs)
				if err != nil {
					return err
				}
				results = mergeByWorkload(results, rs)
			}
			return bench.Print(cmd.OutOrStdout(), results)
		},
	}
	cmd.Flags().IntVar(&runs, "runs", 3, "measured runs per workload (after one warm-up)")
	cmd.Flags().BoolVar(&small, "small", false, "skip the largest workloads")
	cmd.Flags().StringVar(&only, "workload", "", "only workloads whose name contains this")
	cmd.Flags().StringVar(&temporalAddr, "temporal", "", `also run on Temporal: "dev" (start a dev server) or HOST:PORT`)
	return cmd
}

// startDevServer starts a Temporal dev server with the recommended local
// settings (see internal/devserver), for bench --temporal dev and serve
// --temporal dev; the caller stops it.
func startDevServer(ctx context.Context, cmd *cobra.Command) (*devserver.Server, error) {
	fmt.Fprintln(cmd.ErrOrStderr(), "starting a Temporal dev server...")
	return devserver.Start(ctx, devserver.Options{})
}

func benchEngine(ctx context.Context, cmd *cobra.Command, name string, eng worker.Engine, c client.Client, ws []bench.Workload, runs int) ([]bench.Result, error) {
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(bench.Orchestrators()...)
	w.RegisterActivities(bench.Activities()...)
	if err := w.Start(ctx); err != nil {
		return nil, err
	}
	defer w.Stop(context.Background())
	var out []bench.Result
	for _, wl := range ws {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s...\n", name, wl.Name)
		out = append(out, bench.Run(ctx, name, c, wl, runs))
	}
	return out, nil
}

// mergeByWorkload interleaves b's results after a's of the same workload.
func mergeByWorkload(a, b []bench.Result) []bench.Result {
	var out []bench.Result
	for _, r := range a {
		out = append(out, r)
		for _, s := range b {
			if s.Workload.Name == r.Workload.Name {
				out = append(out, s)
			}
		}
	}
	return out
}
