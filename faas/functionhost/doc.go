// Package functionhost is a local, Lambda-compatible function host, for
// development and tests: the same invoker code that targets AWS Lambda
// (faas/awslambda with an endpoint override) runs activities here.
//
// It serves the Lambda Invoke API on 127.0.0.1:
//
//	POST /2015-03-31/functions/{name}/invocations
//
// and answers as Lambda does (checked side by side with AWS's Runtime
// Interface Emulator in the tests):
//
//   - X-Amzn-RequestId is the request id the function sees;
//     X-Amz-Executed-Version the version that ran; X-Amz-Function-Error
//     ("Unhandled") flags a function error; X-Amz-Log-Result (base64 of the
//     last 4 KB of the log, START/END/REPORT lines included) answers
//     X-Amz-Log-Type: Tail.
//   - A function error's body is what the runtime posted, byte for byte
//     (a Python runtime's requestId and string stackTrace, extra keys...);
//     the host's own errors (Sandbox.Timedout, Runtime.ExitError,
//     Runtime.OutOfMemory) have Lambda's {"errorType","errorMessage"}.
//   - The runtime gets Lambda-Runtime-Client-Context (decoded
//     X-Amz-Client-Context), and Lambda-Runtime-Trace-Id: the caller's
//     X-Amzn-Trace-Id, or a new X-Ray id Root=1-{8 hex}-{24 hex}.
//   - Service errors carry x-amzn-ErrorType and Lambda's codes: 404
//     ResourceNotFoundException (an unknown function or qualifier), 413
//     RequestEntityTooLargeException (over 6 MB, or 1 MB for Event), 400
//     InvalidRequestContentException (a payload that is not JSON, a client
//     context that is not base64 JSON), 429 TooManyRequestsException over
//     a function's concurrency (or a wait, with onLimit: queue).
//   - InvocationType Event answers 202 once the event is queued. Queued
//     events wait for concurrency (they are never throttled away), are
//     retried twice after a function error (AsyncConfig), and are logged
//     and kept in the spool's failed/ directory when they still fail.
//     They wait on disk (Options.SpoolDir), not in memory.
//   - A request must arrive within Options.RequestTimeout (30s): slow
//     bodies are cut off, and open connections are capped
//     (Options.MaxConnections).
//
// # Authentication
//
// The API runs code (invocations, and with the control plane, uploaded
// packages), and any local user or process can reach a loopback port. So
// every request must carry an AWS Signature Version 4, as the AWS SDKs and
// CLI make, with the host's credentials: Options.AccessKeyID and
// SecretAccessKey, or a random pair made at New (Host.Credentials;
// `cloudbutton functions serve` prints it as AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY). Any region is accepted. Unsigned requests get 403
// MissingAuthenticationTokenException; another key 403
// UnrecognizedClientException; a wrong secret, another body than signed or
// a signature over five minutes old 403 InvalidSignatureException.
//
// # A closed Runtime API
//
// Each execution environment has its own Runtime API listener on
// 127.0.0.1, and AWS_LAMBDA_RUNTIME_API is "127.0.0.1:PORT/TOKEN": 128
// random bits that only the environment's processes know (from their
// environment). Runtimes that join it with "/2018-06-01/runtime/..." work
// unchanged (aws-lambda-go and curl/bash runtimes are tested); any other
// local process that finds the port gets a bare 404, and can neither take
// an invocation's payload nor post a result. We chose the path token over
// checking the peer's pid (/proc/net/tcp): it needs no /proc scan per
// connection and works on every OS; its limit is a runtime that parses
// AWS_LAMBDA_RUNTIME_API as host:port only. Processes of the same user can
// read each other's environment; the boundary is another user, as for any
// local secret.
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
// # Control plane: deploying, versions and aliases
//
// The host also serves the part of Lambda's control plane that deploying
// needs, under /2015-03-31/functions, for the AWS SDKs, the AWS CLI and
// faas/deploy (`cloudbutton functions deploy --endpoint URL`):
// CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions,
// DeleteFunction, UpdateFunctionCode, UpdateFunctionConfiguration,
// PublishVersion, ListVersionsByFunction, CreateAlias, GetAlias,
// UpdateAlias, DeleteAlias and ListAliases. A host may start with no
// functions and get them all this way; the config file's functions are
// there too, as $LATEST, and can be updated and published.
//
// A package comes as Code.ZipFile (base64 in the JSON body, at most
// MaxCodeRequest bytes) for a provided runtime (provided.al2023,
// provided.al2). It is extracted into Options.CodeDir (default: a
// temporary directory removed by Close), one directory per function and
// package, through an os.Root: entries with an absolute path or "..",
// symbolic links that point outside the package, and more than
// MaxUnzippedCode bytes are refused with Lambda's
// InvalidParameterValueException messages ("Could not unzip uploaded
// file...", "Unzipped size must be smaller than 262144000 bytes"), and so
// is a package without an executable bootstrap at its root, which Lambda
// takes and then fails at every invocation (Runtime.InvalidEntrypoint).
//
// PublishVersion freezes $LATEST's code and configuration (memory,
// timeout, environment) as the next version number, which then has its own
// execution environments; it publishes nothing when neither changed since
// the last version (Lambda returns that one), and honours CodeSha256 and
// RevisionId. Updating $LATEST's code or configuration makes later
// invocations start new environments; running ones finish on the old code.
// Invoke with a qualifier (a version number, an alias, $LATEST, or
// "name:qualifier" and ARNs in the path) runs that version and answers
// X-Amz-Executed-Version with its number. Errors are Lambda's:
// ResourceNotFoundException ("Function not found: arn:...:function:name:7",
// "Alias not found: ..."), ResourceConflictException for a function or
// alias that exists or a version an alias names, ValidationException for
// names, memory and timeout out of Lambda's bounds (with Lambda's
// "1 validation error detected" message), InvalidRequestContentException
// for a body that is not JSON, RequestEntityTooLargeException,
// PreconditionFailedException for a stale RevisionId. Weighted alias
// routing, S3 and image packages, layers and tags are not implemented.
//
// # Sandbox
//
// Each bootstrap execution environment is a sandbox, as on Lambda: when
// it ends (timeout, crash, idle shutdown, host Close) every process it
// started dies with it, a child that left the bootstrap's process group
// and session (setsid) included; and it may not use more memory than the
// function's memory size. How, depends on what the machine offers:
//
//   - On Linux, where the host can create cgroup v2 children of its own
//     cgroup (found from /proc/self/mountinfo and /proc/self/cgroup: under
//     /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid system; as
//     root, or in a delegated cgroup), each environment gets its own
//     cgroup, cloudbutton-fh-<host pid>-<token>, removed when it ends. The
//     bootstrap starts inside it (clone3 with CLONE_INTO_CGROUP), so
//     nothing it forks is ever outside, and a kill is cgroup.kill (Linux
//     5.14 and later).
//   - When the memory controller is enabled for those cgroups (memory is in
//     the parent's cgroup.subtree_control, which cgroup v2 allows only
//     where the parent holds no process of its own: the root cgroup, in
//     practice), memory.max enforces the memory size, with memory.swap.max
//     0 and memory.oom.group 1 so that the kernel's OOM killer takes the
//     whole environment, and memory.peak gives Max Memory Used.
//   - Without a usable cgroup (another OS, cgroup v1 only, a cgroup the
//     host cannot write, no cgroup.kill, clone3 refused by a seccomp
//     profile), an environment's processes are the bootstrap's process
//     group plus every process whose environment holds
//     _CLOUDBUTTON_SANDBOX=<token> (set for the bootstrap, inherited by
//     what it starts), found in /proc; a kill repeats until none is left.
//     A process that clears its environment and leaves its parent and
//     group before the host looks escapes; a cgroup has no such gap.
//   - Without the memory controller (either case above), a watchdog sums
//     the resident memory of the environment's processes (VmRSS plus
//     VmSwap, /proc/PID/status) every 5 ms while it moves, up to every
//     50 ms while it is steady, and kills the environment when the sum is
//     over the memory size; Max Memory Used is the highest sum seen (or
//     one process's VmHWM when that is higher). Memory may go past the
//     size until the next sample sees it.
//   - Outside Linux, the sandbox is the bootstrap's process group only
//     (a setsid child survives it), and memory is neither enforced nor
//     measured.
//
// RLIMIT_AS is not used: it limits address space, not memory, and the Go
// runtime reserves far more address space than it uses (a Go program under
// a 128 MB RLIMIT_AS dies at start: "failed to reserve page summary
// memory"), so it would fail every Go bootstrap at Lambda's smallest
// memory size. The host logs the mechanism it uses once, at debug level.
//
// An environment killed for its memory fails the invocation it was running
// as on Lambda: errorType Runtime.OutOfMemory, errorMessage "RequestId:
// <id> Error: Runtime exited with error: signal: killed", and Max Memory
// Used equal to the memory size in the REPORT line. That line has
// Duration, Billed Duration (the whole invocation, a cold start's init
// included as Lambda bills provided runtimes, rounded up to the next ms),
// Memory Size, Max Memory Used (the environment's peak so far; left out
// for in-process functions and outside Linux) and, on a cold start, Init
// Duration.
//
// # Testing
//
// Start a host on "127.0.0.1:0" in a test, point an awslambda invoker (or
// any AWS SDK Lambda client) at the returned URL with static credentials,
// and Close it in t.Cleanup: every process it started is killed.
package functionhost
