package lambdahandler_test

import (
	"context"
	"strings"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas/lambdahandler"
)

var upper = activity.New("upper", func(ctx context.Context, s string) (string, error) { return strings.ToUpper(s), nil })

// The main of a Lambda function (GOOS=linux CGO_ENABLED=0 go build -tags
// lambda.norpc -o bootstrap, runtime provided.al2023) that runs
// activities for workers whose invoker is faas/awslambda.
func ExampleStart() {
	lambdahandler.Start(upper) // never returns
}
