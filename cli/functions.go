package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudbutton/cloudbutton/faas/functionhost"
)

// newFunctionsCmd returns `cloudbutton functions`, which runs the local
// Lambda-compatible function host; its in-process functions run the
// program's registered activities.
func newFunctionsCmd(r Registrations) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "functions",
		Short: "Run activities as functions on a local Lambda-compatible host, or deploy them",
	}
	cmd.AddCommand(newFunctionsServeCmd(r), newFunctionsDeployCmd())
	return cmd
}

func newFunctionsServeCmd(r Registrations) *cobra.Command {
	var (
		configPath string
		addr       string
		region     string
		codeDir    string
		verbose    bool
		spool      string
		keyID      string
		secret     string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the Lambda Invoke API for the functions of a config file, or deployed ones",
		Long: `Serve the AWS Lambda Invoke API (POST /2015-03-31/functions/{name}/invocations)
on a loopback address, for the functions listed in a YAML config file:

  functions:
    samples:                       # a Lambda custom-runtime executable
      bootstrap: ./bootstrap       # e.g. built from samples/lambdafunc
      timeout: 30s
      concurrency: 20
      onLimit: queue               # or throttle (429, the default)
      memory: 256                  # MB, enforced; REPORT shows Max Memory Used
      async: {maxRetries: 2, retryDelay: 1m}  # Event invocations: queued, retried
    greet:                         # in-process: an activity this program registers
      activity: greet
    app:                           # in-process: all of them
      inProcess: true

Point a worker at it with the awslambda invoker's endpoint override
(ClientConfig.Endpoint = "http://127.0.0.1:9001"), or call it with any AWS SDK
or the AWS CLI (--endpoint-url). In-process functions run the activities
this program registers (with cli.Main); a bootstrap function runs any
executable built with faas/lambdahandler. Event (asynchronous) invocations
wait in --spool (a temporary directory by default) and are never dropped.

It also serves the part of Lambda's control plane that deploying needs
(CreateFunction, UpdateFunctionCode, PublishVersion, aliases...): deploy
functions to it with 'cloudbutton functions deploy --endpoint URL', with or
without a config file (without --config, and no functions.yaml here, it
starts with no functions). Deployed packages are extracted into --code-dir.

Registered activities: ` + names(r.activityNames()) + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			cfg := &functionhost.Config{}
			if _, statErr := os.Stat(configPath); statErr == nil || cmd.Flags().Changed("config") {
				var err error
				if cfg, err = functionhost.LoadConfig(configPath); err != nil {
					return err
				}
			}
			h, err := functionhost.New(cfg, functionhost.Options{
				Activities: r.Activities, Region: region, Logger: logger, LogOutput: cmd.ErrOrStderr(), SpoolDir: spool,
				AccessKeyID: keyID, SecretAccessKey: secret, CodeDir: codeDir,
			})
			if err != nil && len(r.Activities) == 0 {
				return fmt.Errorf("%w (this program registers no activities for in-process functions: see cli.Main)", err)
			}
			if err != nil {
				return err
			}
			url, err := h.Start(addr)
			if err != nil {
				_ = h.Close(context.Background())
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "function host listening on %s (functions: %v); Ctrl-C to stop\n", url, h.FunctionNames())
			id, key := h.Credentials()
			fmt.Fprintf(cmd.OutOrStdout(), "requests must be signed with its credentials; for clients (the AWS CLI, a worker, functions deploy):\n  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", id, key)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return h.Close(shutdown)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "functions.yaml", "function registry (YAML); optional when it does not exist")
	cmd.Flags().StringVar(&codeDir, "code-dir", "", "where deployed packages are extracted (default: a temporary directory, removed at exit)")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:9001", "listen address (loopback only)")
	cmd.Flags().StringVar(&region, "region", "us-east-1", "region shown in function ARNs and given to functions")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log cold starts, idle shutdowns and retries")
	cmd.Flags().StringVar(&keyID, "access-key-id", "", "access key id requests must be signed with (default: a random one, printed)")
	cmd.Flags().StringVar(&secret, "secret-access-key", "", "secret access key requests must be signed with (default: a random one, printed)")
	cmd.Flags().StringVar(&spool, "spool", "", "directory of queued Event invocations, kept across restarts (default: a temporary one)")
	return cmd
}
