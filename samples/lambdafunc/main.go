// Command lambdafunc is a sample AWS Lambda function hosting the sample
// activities of package activities through the faas/lambdahandler adapter.
//
// Build the bootstrap for the provided.al2023 runtime (or the local
// function host):
//
//	GOOS=linux CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap ./samples/lambdafunc
//
// See faas/README.md for deploying it to AWS Lambda.
package main

import (
	"github.com/cloudbutton/cloudbutton/faas/lambdahandler"
	"github.com/cloudbutton/cloudbutton/samples/lambdafunc/activities"
)

func main() {
	lambdahandler.Start(activities.All()...)
}
