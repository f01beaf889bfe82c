// Package soak is the kill -9 campaign behind `cloudbutton soak` and its
// test: one worker process on a SQLite file, killed with SIGKILL at
// seeded moments and restarted, while loader processes start instances of
// every workload and raise their events; then a verifier that reads the
// database and the activities' execution log.
//
// # The campaign
//
// Run starts its children by re-running a command (Options.Command) with
// the role in the environment (EnvRole, EnvDir); that command calls
// RunChild: the CLI's hidden "soak child" command, or a test that the
// test binary runs with -test.run. Everything lives in one directory:
// soak.json (the configuration the children read), soak.db, the worker's
// log, the loaders' logs and the execution log.
//
// The kill schedule is drawn from the seed: a fifth of the kills fall
// before the worker is ready (during start-up, the integrity check at
// open, or recovery; at a seeded fraction of the median time to ready
// seen so far), a quarter within 50 ms of ready (the first steps, the
// activities recovery runs again), the rest up to MaxKillDelay later. The
// soak is bounded by its number of kills, never by time; the only time
// bound is Idle, on lack of progress.
//
// # Workloads
//
// The orchestrators use the public API only: a fan-out, an
// order-sensitive sequence (each activity takes the previous result),
// durable timers and an event-wait timeout, a waiter of 10 events raised
// one by one by a loader, a parent of sub-orchestrations, continue-as-new
// over several generations keeping its unprocessed events, retries with
// back-off (activities that fail deterministically on their first
// attempts, and one that fails for good and is caught), a loop that the
// loader terminates (its clean-up runs under WithoutCancel, its child is
// terminated with it), and a sequence that the loader suspends, raises an
// event to, and resumes. Every instance's input (a Spec) determines its
// exact output, given the events raised to it. Each activity execution
// appends a line to the execution log, fsync'd before the activity
// returns: the idempotency key, the activity, the instance, the step, the
// attempt and a digest of the input.
//
// # The verifier
//
// After the last kill the worker runs until every instance has ended and
// the loaders are done, or until nothing has changed for Idle. Verify
// then checks, through the client (List, Status, ExportHistory) and the
// logs: every instance a loader started exists and ended as its kind
// requires (Completed with the exact output; Terminated for the
// terminate workload and its child); the events each waiter and
// continue-as-new instance received are the ones raised, in order; each
// history has no index gap, one start first and one end last, steps
// numbered 1..n once each, results after their steps; every activity
// scheduled is completed exactly once (lost and doubled are counted
// apart, and a terminated run may leave some), timers created = fired
// and children answered once; every recorded result has a run of that
// attempt on that input in the execution log; retry attempts never go
// back nor pass MaxAttempts; no idempotency key was run with two
// different inputs (a collision); re-executions of a key on the same
// input (at least once, allowed) are counted, not failed; a suspended
// instance takes no step between the loader's suspend and resume (two
// consecutive steps that both ran in between, by the times in the
// loader's and the execution log, prove one: one clock, one machine);
// nothing is stuck. Client errors in the loaders (a SQLITE_BUSY, say) are failures
// too. Each failure names its instance.
package soak
