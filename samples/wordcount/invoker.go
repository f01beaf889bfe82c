package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
	"github.com/cloudbutton/cloudbutton/samples/internal/samplekit"
	"github.com/cloudbutton/cloudbutton/samples/wordcount/wordcount"
)

// newInvoker returns the invoker the worker runs activities through (nil:
// the worker's default, in-process), a description, and a clean-up.
//
// With --local-host it starts a Lambda-compatible function host on
// 127.0.0.1 serving the word-count activities in-process, and invokes them
// over HTTP with the AWS SDK's Lambda client: the same code path as AWS
// Lambda. With --lambda-endpoint it invokes an existing endpoint (a host
// started with `cloudbutton functions serve`, or Lambda itself) whose
// function --lambda-function runs the activities (a bootstrap built from
// samples/wordcount/lambda).
func newInvoker(ctx context.Context, cfg config) (faas.Invoker, string, func(), error) {
	noop := func() {}
	endpoint := cfg.lambdaEndpoint
	closeHost := noop
	var host *functionhost.Host
	switch {
	case cfg.localHost:
		var err error
		host, err = functionhost.New(&functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
			cfg.lambdaFunction: {
				InProcess:   true,
				Timeout:     5 * time.Minute,
				Concurrency: max(cfg.job.MaxInFlight, 1) * 2,
				OnLimit:     functionhost.Queue,
			},
		}}, functionhost.Options{Activities: wordcount.Activities(), Logger: samplekit.QuietLogger(io.Discard)})
		if err != nil {
			return nil, "", noop, fmt.Errorf("--local-host: %w", err)
		}
		url, err := host.Start("127.0.0.1:0")
		if err != nil {
			_ = host.Close(ctx)
			return nil, "", noop, fmt.Errorf("--local-host: %w", err)
		}
		endpoint = url
		closeHost = func() {
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = host.Close(cctx)
		}
	case endpoint == "":
		return nil, describeInvoker(cfg), noop, nil
	}
	cc := awslambda.ClientConfig{Endpoint: endpoint, Region: "us-east-1"}
	if cfg.localHost {
		cc.AccessKeyID, cc.SecretAccessKey = host.Credentials() // requests are signed with the host's credentials
	}
	lc, err := awslambda.NewClient(ctx, cc)
	if err != nil {
		closeHost()
		return nil, "", noop, fmt.Errorf("lambda client for %s: %w", endpoint, err)
	}
	inv, err := awslambda.New(lc, awslambda.Options{DefaultFunction: cfg.lambdaFunction, Logger: samplekit.QuietLogger(io.Discard)})
	if err != nil {
		closeHost()
		return nil, "", noop, err
	}
	return inv, describeInvoker(cfg) + " at " + endpoint, closeHost, nil
}
