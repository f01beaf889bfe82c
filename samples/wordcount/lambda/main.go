// Command lambda is an AWS Lambda function (custom runtime) that runs the
// word-count activities, for `go run ./samples/wordcount --lambda-endpoint`
// against Lambda or a local function host.
//
//	GOOS=linux CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap ./samples/wordcount/lambda
//
// On Lambda, the corpus must be in S3 (--input s3://...): the function
// cannot read the worker's local files.
package main

import (
	"github.com/cloudbutton/cloudbutton/faas/lambdahandler"
	"github.com/cloudbutton/cloudbutton/samples/wordcount/wordcount"
)

func main() {
	lambdahandler.Start(wordcount.Activities()...)
}
