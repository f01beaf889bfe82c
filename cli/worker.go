package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cloudbutton/cloudbutton/worker"
)

// errNothingToHost is the worker's refusal to run without registrations.
var errNothingToHost = errors.New("nothing to host: this program registers no orchestrators and no activities " +
	"(build your own CLI with cli.Main(cli.Registrations{Orchestrators: ..., Activities: ...}), see package cli)")

func newWorkerCmd(cfg *engineConfig, r Registrations) *cobra.Command {
	var wf workerFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker for the orchestrators and activities this program registers",
		Long: `Run a worker for the orchestrators and activities this program registers
(with cli.Main) until interrupted (Ctrl-C stops it gracefully). On the
embedded engine, one worker runs per database file; on Temporal, any number.

OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER /
OTEL_METRICS_EXPORTER=otlp) set, the worker exports its spans and metrics
over OTLP (OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf, the default, or grpc);
the other standard OTEL_* variables apply.

` + r.describe(),
		Example: `  cloudbutton worker --db app.db
  cloudbutton worker --engine temporal --address 127.0.0.1:7233 --task-queue cloudbutton
  cloudbutton worker --db app.db --key-limit api.stripe.com=10,5/s --key-limit 'tenant-*=2'
  cloudbutton worker --db app.db --invoker lambda --lambda-endpoint http://127.0.0.1:9001 --lambda-function activities`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(r.Orchestrators) == 0 && len(r.Activities) == 0 {
				return withCode(ExitUsage, errNothingToHost)
			}
			if err := wf.check(); err != nil {
				return err
			}
			return withEngine(cmd, cfg, true, func(ctx context.Context, e engine) error {
				stop, err := wf.start(ctx, cmd, e, r)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "worker running on %s (orchestrators: %s; activities: %s); Ctrl-C to stop\n",
					cfg.describe(), names(r.orchestratorNames()), names(r.activityNames()))
				<-ctx.Done()
				return stop(context.Background())
			})
		},
	}
	wf.addFlags(cmd.Flags())
	return cmd
}

// workerFlags configure a worker: the worker command's, and serve
// --worker's.
type workerFlags struct {
	concurrency int
	keyLimits   []string
	limits      []worker.KeyLimit // parsed by check
	inv         invokerConfig
}

func (wf *workerFlags) addFlags(f *pflag.FlagSet) {
	f.IntVar(&wf.concurrency, "concurrency", 256, "activities running at once")
	f.StringArrayVar(&wf.keyLimits, "key-limit", nil,
		"limit of the activity calls naming a key (orchestration.WithKey), repeatable: KEY=N[,R/s][,burst=B] "+
			"(N in flight, R started per second); KEY may end in * (a prefix) or be * (every other key)")
	wf.inv.addFlags(f)
}

// check parses the flags that can be wrong before the engine opens.
func (wf *workerFlags) check() error {
	limits, err := parseKeyLimits(wf.keyLimits)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	wf.limits = limits
	return nil
}

// start starts a worker on e for r's registrations, logging to the
// command's stderr, with telemetry as the OTEL_* environment says (see
// withTelemetry). stop stops the worker, then flushes the telemetry.
func (wf *workerFlags) start(ctx context.Context, cmd *cobra.Command, e engine, r Registrations) (stop func(context.Context) error, err error) {
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	invoker, err := wf.inv.invoker(ctx)
	if err != nil {
		return nil, err
	}
	opts, stopTelemetry, err := withTelemetry(ctx, os.Getenv,
		worker.Options{MaxConcurrentActivities: wf.concurrency, Logger: log, Invoker: invoker, KeyLimits: wf.limits})
	if err != nil {
		return nil, err
	}
	flush := func() {
		if err := stopTelemetry(context.Background()); err != nil {
			log.Warn("telemetry: flushing the exporters", "err", err)
		}
	}
	w := worker.New(e, opts)
	w.RegisterOrchestrators(r.Orchestrators...)
	w.RegisterActivities(r.Activities...)
	if err := w.Start(ctx); err != nil {
		flush()
		if errors.Is(err, worker.ErrInvalidLimit) {
			return nil, withCode(ExitUsage, err)
		}
		return nil, err
	}
	return func(ctx context.Context) error {
		defer flush()
		return w.Stop(ctx)
	}, nil
}

// parseKeyLimits reads the --key-limit flags.
func parseKeyLimits(specs []string) ([]worker.KeyLimit, error) {
	var out []worker.KeyLimit
	for _, s := range specs {
		l, err := worker.ParseKeyLimit(s)
		if err != nil {
			return nil, fmt.Errorf("--key-limit: %w", err)
		}
		out = append(out, l)
	}
	return out, nil
}

// describe lists the registered names, for help texts.
func (r Registrations) describe() string {
	return fmt.Sprintf("Registered orchestrators: %s.\nRegistered activities: %s.", names(r.orchestratorNames()), names(r.activityNames()))
}

func (r Registrations) orchestratorNames() []string {
	ns := make([]string, 0, len(r.Orchestrators))
	for _, d := range r.Orchestrators {
		ns = append(ns, d.Name())
	}
	slices.Sort(ns)
	return ns
}

func (r Registrations) activityNames() []string {
	ns := make([]string, 0, len(r.Activities))
	for _, d := range r.Activities {
		ns = append(ns, d.Name())
	}
	slices.Sort(ns)
	return ns
}

// names joins names for humans ("none" for none).
func names(ns []string) string {
	if len(ns) == 0 {
		return "none"
	}
	return strings.Join(ns, ", ")
}

func (c *engineConfig) describe() string {
	if c.engine == "temporal" {
		return fmt.Sprintf("Temporal %s (namespace %s, task queue %s)", c.address, c.namespace, c.taskQueue)
	}
	return "the embedded engine, " + c.db
}
