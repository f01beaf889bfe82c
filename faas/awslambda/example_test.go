package awslambda_test

import (
	"context"
	"log"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/worker"
)

// A worker whose activities are Lambda invocations: here of the local
// function host (cloudbutton functions serve); without Endpoint, real AWS
// Lambda with the credentials and region of the standard AWS chain.
func ExampleNew() {
	ctx := context.Background()
	lc, err := awslambda.NewClient(ctx, awslambda.ClientConfig{Region: "us-east-1", Endpoint: "http://127.0.0.1:9001",
		AccessKeyID: "local", SecretAccessKey: "local"})
	if err != nil {
		log.Fatal(err)
	}
	inv, err := awslambda.New(lc, awslambda.Options{DefaultFunction: "activities"})
	if err != nil {
		log.Fatal(err)
	}
	_ = worker.Options{Invoker: inv} // then worker.New(eng, opts)
}

// What each invocation used reaches whoever calls Invoke (a worker): the
// invoker reads the REPORT line of the log tail it asks Lambda for.
func Example_usage() {
	ctx := context.Background()
	lc, err := awslambda.NewClient(ctx, awslambda.ClientConfig{Region: "eu-west-1"})
	if err != nil {
		log.Fatal(err)
	}
	inv, err := awslambda.New(lc, awslambda.Options{DefaultFunction: "cloudbutton-activities"})
	if err != nil {
		log.Fatal(err)
	}
	var used faas.Usage
	ctx = faas.WithUsageReporter(ctx, func(u faas.Usage) { used = u })
	_, err = inv.Invoke(ctx, faas.Request{Activity: "resize", Input: []byte(`"cat.png"`), Attempt: 1})
	log.Printf("err=%v billed=%v memory=%dMB init=%v cost=%.6f GB-s", err, used.BilledDuration, used.MemoryMB, used.InitDuration, used.GBSeconds())
}
