// Package functionhost is a local, Lambda-compatible function host, for
// development and tests: the same invoker code that targets AWS Lambda
// (faas/awslambda with an endpoint override) runs activities here.
//
// It serves the Lambda Invoke API on 127.0.0.1:
//
//	POST /2015-03-31/functions/{name}/invocations
//
// with X-Amz-Function-Error ("Unhandled") and X-Amz-Executed-Version
// ("$LATEST") response headers, X-Amz-Log-Result (base64 of the last 4 KB
// of the invocation's log, START/END/REPORT lines included) when the request
// has X-Amz-Log-Type: Tail, and Lambda's error JSON. Unknown functions get
// 404 ResourceNotFoundException, payloads over 6 MB get 413
// RequestEntityTooLargeException, invocations over a function's concurrency
// get 429 TooManyRequestsException (or wait, with onLimit: queue). Errors
// carry the x-amzn-ErrorType header, as the AWS SDKs expect.
// Qualifiers (versions, aliases) are accepted and ignored: the host runs
// $LATEST.
//
// # Two kinds of function
//
// In-process functions run activities compiled into the host (Options.
// Activities) through the same handler a Lambda bootstrap uses
// (faas/lambdahandler): the fast path for development.
//
// Bootstrap functions run a Lambda custom-runtime executable (for example
// one built from samples/lambdafunc) through the host's own implementation
// of the Lambda Runtime API (/2018-06-01/runtime/invocation/next, .../response,
// .../error, /runtime/init/error), with AWS_LAMBDA_RUNTIME_API pointing at
// an endpoint of the host. Like Lambda, the host runs one process per
// concurrent execution environment; starts one on first use (a cold start,
// reported as "Init Duration" in the REPORT log line) and reuses it while
// warm; stops it after the function's idle timeout; kills it when an
// invocation outlives the function timeout (the invocation fails with
// errorType Sandbox.Timedout); and replaces a process that crashed (the
// invocation it was running fails with Runtime.ExitError).
//
// # Configuration
//
// A small YAML file lists the functions (see Config): an in-process
// activity or a bootstrap path, memory, timeout, concurrency and what to
// do over the limit. `cloudbutton functions serve --config functions.yaml`
// runs a host from such a file, whose in-process functions run the
// activities that build of the CLI registers (see package cli).
//
// # Testing
//
// Start a host on "127.0.0.1:0" in a test, point an awslambda invoker (or
// any AWS SDK Lambda client) at the returned URL with static credentials,
// and Close it in t.Cleanup: every process it started is killed.
package functionhost
