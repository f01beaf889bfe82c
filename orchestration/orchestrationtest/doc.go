// Package orchestrationtest runs orchestrators in unit tests: on the real
// replay engine, in memory, with real or mocked activities and a virtual
// clock that skips ahead whenever only timers are pending.
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
// Timers, retry back-off and scheduled callbacks (After, RaiseEventAfter,
// TerminateAfter) run on virtual time: a one-week Sleep takes no time.
// Activities run sequentially in scheduling order, so runs are
// reproducible.
package orchestrationtest
