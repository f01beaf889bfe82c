package deploy_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/deploy"
)

// Deploy the sample function to AWS and point the alias "live" at the new
// version. For the local function host, add Endpoint:
// "http://127.0.0.1:9001" and static credentials to the ClientConfig, and
// build for runtime.GOOS (the host runs the bootstrap natively).
func Example() {
	ctx := context.Background()
	pkg, err := deploy.Build(ctx, deploy.BuildOptions{Package: "./samples/lambdafunc", GOARCH: "arm64"})
	if err != nil {
		log.Fatal(err)
	}
	client, err := awslambda.NewClient(ctx, awslambda.ClientConfig{Region: "eu-west-1"})
	if err != nil {
		log.Fatal(err)
	}
	res, err := deploy.Deploy(ctx, client, pkg, deploy.Options{
		FunctionName: "cloudbutton-activities",
		Alias:        "live",
		Role:         "arn:aws:iam::123456789012:role/cloudbutton-activities-exec",
		Architecture: "arm64",
		MemoryMB:     256,
		Timeout:      time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("version", res.Version, res.AliasARN)
}
