package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/deploy"
)

// localRole is the execution role given to functions created on the local
// host, which does not check it.
const localRole = "arn:aws:iam::000000000000:role/cloudbutton-local"

func newFunctionsDeployCmd() *cobra.Command {
	var (
		function, alias, role, arch, goos, endpoint, region, profile, ldflags, zipPath, description string
		memory                                                                                      int32
		timeout                                                                                     time.Duration
		env                                                                                         map[string]string
		asJSON, verbose                                                                             bool
	)
	cmd := &cobra.Command{
		Use:   "deploy [PACKAGE]",
		Short: "Build a function's bootstrap and deploy it to AWS Lambda or the local host",
		Long: `Build the Go main package PACKAGE (default ".") as a Lambda bootstrap
(GOOS=linux CGO_ENABLED=0 go build -tags lambda.norpc), zip it as
"bootstrap", and deploy it through the Lambda API: create the function, or
update its code and configuration; publish a version; and with --alias
create or move that alias to it. Prints the version and the ARNs.

Without --endpoint it deploys to AWS, with credentials and region from the
AWS default chain (--profile, --region); creating a function there needs
--role, the execution role's ARN. With --endpoint it deploys to the local
function host ('cloudbutton functions serve'), which runs the bootstrap on
this machine: it is built for this system (--goos to change that), and
--role may be left out.`,
		Example: `  cloudbutton functions deploy ./samples/lambdafunc --function samples --alias live --endpoint http://127.0.0.1:9001
  cloudbutton functions deploy ./samples/lambdafunc --function cloudbutton-activities --alias live \
      --arch arm64 --memory 256 --timeout 60s --region eu-west-1 \
      --role arn:aws:iam::123456789012:role/cloudbutton-activities-exec`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if function == "" {
				return withCode(ExitUsage, errors.New("--function is required (the function's name)"))
			}
			pkgPath := "."
			if len(args) == 1 {
				pkgPath = args[0]
			}
			if zipPath != "" && len(args) == 1 {
				return withCode(ExitUsage, errors.New("give PACKAGE or --zip, not both"))
			}
			goarch, err := deploy.GOARCH(arch)
			if err != nil {
				return withCode(ExitUsage, fmt.Errorf("--arch: %w", err))
			}
			if timeout < 0 || timeout%time.Second != 0 {
				return withCode(ExitUsage, fmt.Errorf("--timeout %v: want a whole number of seconds", timeout))
			}
			if memory < 0 {
				return withCode(ExitUsage, fmt.Errorf("--memory %d: want a positive number of MB", memory))
			}
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelInfo
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))

			cc := awslambda.ClientConfig{Region: region, Endpoint: endpoint, Profile: profile}
			if endpoint != "" {
				if cc.Region == "" {
					cc.Region = "us-east-1"
				}
				// Credentials come from the AWS chain (AWS_ACCESS_KEY_ID...): the
				// local host prints the ones it accepts.
				if goos == "" {
					goos = runtime.GOOS
				}
				if role == "" {
					role = localRole
				}
			}
			client, err := awslambda.NewClient(ctx, cc)
			if err != nil {
				return err
			}

			var pkg []byte
			if zipPath != "" {
				if pkg, err = os.ReadFile(zipPath); err != nil {
					return withCode(ExitUsage, fmt.Errorf("--zip: %w", err))
				}
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "building %s (GOOS=%s GOARCH=%s)\n", pkgPath, orDefault(goos, "linux"), goarch)
				pkg, err = deploy.Build(ctx, deploy.BuildOptions{Package: pkgPath, GOOS: goos, GOARCH: goarch, LDFlags: ldflags})
				if err != nil {
					return err
				}
			}
			res, err := deploy.Deploy(ctx, client, pkg, deploy.Options{
				FunctionName: function, Alias: alias, Role: role, Architecture: goarch,
				MemoryMB: memory, Timeout: timeout, Environment: env, Description: description, Logger: logger,
			})
			if errors.Is(err, deploy.ErrNoRole) {
				return withCode(ExitUsage, fmt.Errorf("function %s does not exist: creating it needs --role, the execution role's ARN", function))
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			what := "updated"
			if res.Created {
				what = "created"
			}
			fmt.Fprintf(out, "%s %s, version %s (%d bytes, sha256 %s)\n", what, function, res.Version, res.CodeSize, res.CodeSha256)
			fmt.Fprintf(out, "function  %s\n", res.FunctionARN)
			fmt.Fprintf(out, "version   %s\n", res.VersionARN)
			if res.AliasARN != "" {
				fmt.Fprintf(out, "alias     %s\n", res.AliasARN)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&function, "function", "f", "", "function name (required)")
	f.StringVar(&alias, "alias", "", "create or move this alias to the new version, e.g. live")
	f.StringVar(&role, "role", "", "execution role ARN (required to create a function on AWS)")
	f.Int32Var(&memory, "memory", 0, "memory in MB (default: Lambda's 128 on create, unchanged on update)")
	f.DurationVar(&timeout, "timeout", 0, "function timeout, whole seconds (default: Lambda's 3s on create, unchanged on update)")
	f.StringToStringVar(&env, "env", nil, "environment variables, KEY=VALUE[,KEY=VALUE] (replace the function's on update)")
	f.StringVar(&description, "description", "", "function and version description")
	f.StringVar(&arch, "arch", defaultArch(), "architecture: x86_64 (amd64) or arm64 (default: this machine's)")
	f.StringVar(&goos, "goos", "", "GOOS of the build (default linux; this system's with --endpoint)")
	f.StringVar(&ldflags, "ldflags", "", "go build -ldflags, e.g. '-s -w'")
	f.StringVar(&zipPath, "zip", "", "deploy this package (a zip holding bootstrap) instead of building PACKAGE")
	f.StringVar(&endpoint, "endpoint", "", "Lambda endpoint, e.g. http://127.0.0.1:9001 for 'cloudbutton functions serve' (default: AWS)")
	f.StringVar(&region, "region", "", "AWS region (default: the AWS default chain; us-east-1 with --endpoint)")
	f.StringVar(&profile, "profile", "", "AWS shared-config profile")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.BoolVarP(&verbose, "verbose", "v", false, "log each step")
	return cmd
}

// defaultArch is Lambda's name for this machine's architecture.
func defaultArch() string {
	if a, err := deploy.Architecture(runtime.GOARCH); err == nil {
		return string(a)
	}
	return runtime.GOARCH
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
