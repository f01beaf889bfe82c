package awslambda_test

import (
	"context"
	"log"

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
