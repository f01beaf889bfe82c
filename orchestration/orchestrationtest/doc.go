// Package orchestrationtest runs orchestrators in unit tests on the
// embedded engine itself — its step processing, retries, timeouts, ids and
// errors — over an in-memory store, with real or mocked activities and a
// virtual clock that skips ahead whenever only timers are pending.
//
//	env := orchestrationtest.New(t)
//	calls := orchestrationtest.MockActivity(env, CountWords,
//		func(ctx context.Context, c Chunk) (map[string]int, error) { return map[string]int{"go": 1}, nil })
//	out, err := orchestrationtest.Run(env, WordCount, job)
//
// # Determinism
//
// After every run, each instance's recorded history is replayed from
// scratch against the same code, and the test fails if the replay does not
// reproduce it: nondeterministic code (map iteration, time.Now, random
// numbers, goroutines) is caught in unit tests, not in production.
// ReplayHistoryFile replays an exported history (golden files, or one
// exported from a running engine) against current code, so a code change
// that would break running instances fails a test.
//
// # Time
//
// Timers, retry back-off, start-to-close and heartbeat timeouts, and
// scheduled callbacks (After, RaiseEventAfter, TerminateAfter) run on
// virtual time: a one-week Sleep takes no time. The clock stands still
// while the engine works and jumps to the next timer when it waits only
// for time: nothing outstanding, or every activity attempt in flight
// waiting on its context (an activity blocked until it times out or is
// cancelled). An activity that waits on its context for a real-time event
// would see its deadline come at once. Activities run one at a time, in
// scheduling order, so runs are reproducible.
//
// # Inspection
//
// History, ActivityAttempts (every attempt of every activity call, with
// its virtual times, as the embedded engine's client lists them),
// CustomStatus and ExportHistory show what the run recorded; the
// Instance... variants do so for sub-orchestrations.
//
// # Stuck runs
//
// A run that waits for something nobody delivers (an event never raised,
// a sub-orchestration whose orchestrator is not registered) returns
// ErrStuck, naming the instances that wait and why: what client.Explain
// says of the root, such as "expense-1": waiting for the event "approval"
// since 2026-12-01T12:00:00Z.
package orchestrationtest
