// Package faas runs activities as function invocations: in-process, on AWS
// Lambda through the AWS SDK, or on the local Lambda-compatible function
// host. Workers dispatch every activity attempt through an Invoker.
//
// # Invokers
//
//   - NewInProcess runs activities in the worker's process, each attempt in
//     a goroutine, under a concurrency limit (excess attempts queue), with
//     the ctx deadline enforced even for activities that ignore ctx, and
//     panics recovered into type "Panic" failures with their stack.
//   - faas/awslambda invokes one Lambda function per activity (or one
//     function for many activities) with the AWS SDK for Go v2, on AWS or,
//     with an endpoint override, on the local host.
//   - faas/functionhost is the local host: the Lambda Invoke API on
//     127.0.0.1, running functions in-process or as real bootstrap
//     executables through its own Lambda Runtime API
//     (`cloudbutton functions serve`).
//   - faas/lambdahandler turns activities into a Lambda handler for
//     aws-lambda-go: the bootstrap side.
//
// Switching an application from in-process activities to Lambda changes
// the worker's Options.Invoker and nothing in orchestrator or activity
// code.
//
// # Wire format
//
// An attempt is sent to Lambda as a JSON envelope:
//
//	{"activity":"count-words","input":{...},"instanceId":"i-1","taskId":3,
//	 "attempt":1,"idempotencyKey":"i-1/3/1"}
//
// input is the codec-encoded input, inlined when it is JSON and otherwise
// a base64 string with "inputEncoding":"base64". The response is the
// encoded result. A failure is Lambda's error JSON {"errorType",
// "errorMessage","stackTrace"}, whose errorType is the activity.Error type
// with ":NonRetryable" appended for non-retryable errors: that suffix is
// how the flag survives Lambda, whatever the runtime.
//
// # Errors
//
// Every failure is an *Error (errors.As) that matches ErrInvocation
// (errors.Is); its Kind says what failed and Failure gives the form
// recorded in history: application errors keep their type, message and
// stack; timeouts, throttling, unknown functions or activities, oversized
// payloads and runtime crashes get the engine's well-known failure types,
// so retry policies treat them alike on every invoker.
//
// # Deploying to AWS Lambda
//
// Build the bootstrap for the provided.al2023 runtime (arm64 shown; use
// GOARCH=amd64 and --architectures x86_64 for Intel):
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap ./samples/lambdafunc
//	zip function.zip bootstrap
//	aws lambda create-function --function-name cloudbutton-activities \
//	    --runtime provided.al2023 --handler bootstrap --architectures arm64 \
//	    --zip-file fileb://function.zip --timeout 60 --memory-size 256 \
//	    --role arn:aws:iam::123456789012:role/cloudbutton-activities-exec
//
// The role is the function's execution role (AWSLambdaBasicExecutionRole
// for logs, plus whatever the activities touch). Update the code with
// `aws lambda update-function-code --function-name cloudbutton-activities
// --zip-file fileb://function.zip`; publish a version and point an alias at
// it to use Options.Qualifier.
//
// The worker needs lambda:InvokeFunction on the functions it calls:
//
//	{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
//	  "Action":"lambda:InvokeFunction",
//	  "Resource":["arn:aws:lambda:eu-west-1:123456789012:function:cloudbutton-activities",
//	              "arn:aws:lambda:eu-west-1:123456789012:function:cloudbutton-activities:*"]}]}
//
// and wires the invoker, with credentials from the standard AWS chain:
//
//	client, err := awslambda.NewClient(ctx, awslambda.ClientConfig{Region: "eu-west-1"})
//	inv, err := awslambda.New(client, awslambda.Options{DefaultFunction: "cloudbutton-activities"})
//	w := worker.New(eng, worker.Options{Invoker: inv})
//
// Set each activity's start-to-close timeout at or above the function's
// timeout, so Lambda's own timeout reports the failure.
//
// # Testing
//
// Run the same code against the local host: start a functionhost.Host on
// 127.0.0.1:0 (or `cloudbutton functions serve`), and build the client with
// ClientConfig{Endpoint: url, AccessKeyID: id, SecretAccessKey: secret},
// the host's credentials (Host.Credentials, or what serve prints).
package faas
