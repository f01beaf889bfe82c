// Package cli is the CloudButton command line as a library: Main turns a
// program's own main into the full CLI (start, status, list, wait,
// history, raise, query, update, terminate, suspend, resume, purge,
// rewind, replay, worker, serve, functions serve, functions deploy, bench,
// soak) hosting that program's orchestrators and activities.
//
//	func main() {
//		cli.Main(cli.Registrations{
//			Orchestrators: []orchestration.Definition{app.Order},
//			Activities:    []activity.Definition{app.Reserve, app.Charge},
//		})
//	}
//
// The stock binary, cmd/cloudbutton, is such a main: it registers only the
// benchmark workloads (bench.fanout, bench.sequence, bench.noop).
// samples/wordcount/cloudbutton is the word count's own CLI.
//
// # Registrations
//
// The registrations are what the commands that run code use:
//
//   - worker hosts Orchestrators and Activities on the engine. A worker
//     needs at least one of them (an activity-only worker is fine, on
//     Temporal say); with neither it refuses to start, naming what is
//     missing, with exit code 2.
//   - serve --worker (and serve --temporal dev) hosts them too, beside the
//     HTTP API and the dashboard (package server).
//   - replay checks an exported history against the current code of
//     Orchestrators; with none it refuses, with exit code 2.
//   - functions serve runs its in-process functions (activity:,
//     activities: or inProcess: in its config) with Activities; bootstrap
//     functions need none. functions deploy builds and deploys a
//     function's own main package (see faas/deploy), not these.
//
// The other commands only talk to the engine through its client and need
// no registrations: any build of the CLI can start, inspect and control
// instances that another program's worker runs. bench and soak run
// workloads of their own.
//
// # Soak
//
// soak is a kill -9 campaign on the embedded engine: a worker process on a
// new SQLite file, killed with SIGKILL --kills times at moments drawn from
// --seed (a fifth of them during open or recovery) and restarted, while
// loader processes start every kind of workload (fan-outs, sequences,
// timers, event waiters, sub-orchestrations, continue-as-new, retries,
// terminate, suspend and resume) and raise their events. Its children are
// this program run again with a hidden "soak child" command. A verifier
// then reads the database and the activities' execution log and checks
// exact outputs, raised = received events, history without gaps, one
// completion per activity, timers created = fired, no idempotency key
// reused with another input, and nothing stuck; it prints a table and
// exits 1 on any failure, naming each failing instance. The test of
// internal/soak runs a short soak (50 kills) in CI.
//
// # Serve
//
// serve runs package server for the engine: the HTTP API under /api/v1
// and the dashboard at /, on 127.0.0.1:8233 by default, until
// interrupted, and prints its URL. A non-loopback --addr needs a token
// (--token, or a generated one, printed in the URL). --worker adds a
// worker; --temporal dev starts a Temporal dev server with the recommended
// settings, serves it with a worker, and stops it all on interrupt.
//
// # Exit codes
//
// Run returns, and Main exits with: ExitOK (0) on success; ExitError (1)
// on an error; ExitUsage (2) on bad usage (unknown command or flag,
// missing argument, invalid JSON or an unreadable input file, a negative
// --timeout, nothing registered for worker or replay, an invalid schedule);
// ExitNotFound (3) when the instance or schedule does not exist; ExitFailed (4) when the orchestration
// ended Failed or Terminated (wait, start --wait); ExitTimeout (5) when
// --timeout passed first. The HTTP API's problem types mean the same
// (internal/errkind decides both).
//
// # JSON arguments
//
// An orchestration input (start) or event payload (raise) is inline JSON,
// @FILE, - for standard input, or --input-file / --payload-file FILE: a
// command line argument holds at most 128 KiB on Linux, a file or stdin
// up to MaxInputFile. Tables (list, status, history) print ids and names
// with control or other non-printable characters quoted, Go style
// ("esc\x1b"); --json output keeps them exact.
//
// # Testing
//
// Run is Main without the process: it takes a context (cancel it to stop
// a worker, as Ctrl-C does), the arguments and the output streams, and
// returns the exit code, so a test can run a worker and the commands
// against it in one process on a temporary SQLite file. RunWithStdin also
// takes the standard input (Run reads os.Stdin, and only for "-").
package cli
