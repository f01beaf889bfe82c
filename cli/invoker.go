package cli

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
)

// invokerConfig picks how activities run: in-process, or as AWS Lambda
// invocations (on AWS, or on the local host of 'cloudbutton functions
// serve' with --lambda-endpoint).
type invokerConfig struct {
	kind, endpoint, region, function, prefix, qualifier string
}

func (c *invokerConfig) addFlags(f *pflag.FlagSet) {
	f.StringVar(&c.kind, "invoker", "inprocess", "how activities run: inprocess, or lambda (AWS Lambda or a local host)")
	f.StringVar(&c.endpoint, "lambda-endpoint", "", "lambda: endpoint override, e.g. http://127.0.0.1:9001 for 'cloudbutton functions serve'")
	f.StringVar(&c.region, "lambda-region", "", "lambda: region (default: the AWS default chain; us-east-1 with --lambda-endpoint)")
	f.StringVar(&c.function, "lambda-function", "", "lambda: one function that hosts every activity (default: a function per activity)")
	f.StringVar(&c.prefix, "lambda-prefix", "", "lambda: prefix of per-activity function names")
	f.StringVar(&c.qualifier, "lambda-qualifier", "", "lambda: version or alias")
}

// invoker returns nil for in-process (the worker's default).
func (c *invokerConfig) invoker(ctx context.Context) (faas.Invoker, error) {
	switch c.kind {
	case "inprocess", "":
		return nil, nil
	case "lambda":
		cc := awslambda.ClientConfig{Region: c.region, Endpoint: c.endpoint}
		if c.endpoint != "" {
			if cc.Region == "" {
				cc.Region = "us-east-1"
			}
			// Credentials come from the AWS chain (AWS_ACCESS_KEY_ID...): the
			// local host prints the ones it accepts.
		}
		lc, err := awslambda.NewClient(ctx, cc)
		if err != nil {
			return nil, err
		}
		return awslambda.New(lc, awslambda.Options{DefaultFunction: c.function, Prefix: c.prefix, Qualifier: c.qualifier})
	}
	return nil, withCode(ExitUsage, fmt.Errorf("--invoker %q: want inprocess or lambda", c.kind))
}
