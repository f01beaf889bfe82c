// Package orchestration is the API for orchestrator code: plain,
// deterministic Go functions that call activities through typed futures.
//
//	var WordCount = orchestration.New("word-count",
//		func(ctx orchestration.Context, chunks []Chunk) (int, error) {
//			fs := make([]orchestration.Future[int], len(chunks))
//			for i, c := range chunks { // fan-out
//				fs[i] = orchestration.Call(ctx, CountWords, c,
//					orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 3}))
//			}
//			counts, err := orchestration.All(ctx, fs...).Await(ctx) // fan-in
//			...
//		})
//
// The primitives: Call (activities), All, Any and CallAll (bounded
// fan-out), Go (orchestration-scoped coroutines), Sleep and NewTimer
// (durable timers), WaitEvent (external events, with a timeout), CallSub
// (sub-orchestrations), ContinueAsNew (eternal orchestrations), SideEffect,
// NewUUID and Context.Now (deterministic values), GetVersion (changing code
// under running instances), SetCustomStatus, and Context.Logger (silent
// during replay).
//
// # Options
//
// Calls take variadic options: CallOption (WithRetry,
// WithStartToCloseTimeout, WithHeartbeatTimeout, WithKey: the key of the
// worker's per-key limits) for activities,
// SubOption (WithInstanceID) for sub-orchestrations, ContinueAsNewOption
// (KeepUnprocessedEvents) for ContinueAsNew. They apply in order, a later
// one overriding an earlier one. WithCallOptions sets default call options
// on a context, as Temporal's workflow.WithActivityOptions does, so that a
// retry policy is not repeated on every call:
//
//	ctx = orchestration.WithCallOptions(ctx,
//		orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 3}))
//
// The calls made through it (and through the contexts of its coroutines
// and WithoutCancel) start from the defaults; their own options override
// them. A bad option value is reported by the call, naming the option and
// the value:
//
//	orchestration.Call("charge"): WithStartToCloseTimeout(-1s): negative
//
// # Queries and updates
//
// HandleQuery and HandleUpdate register typed handlers that clients call
// (client.Query, client.Update). A query reads the orchestration's
// current state and records nothing. An update passes its validator
// (WithValidator), is recorded in history, runs as a coroutine of the
// orchestration, and returns its result; a refused one leaves no trace.
// Query handlers and validators are read-only: scheduling work, waiting
// or changing state from them is an error to the caller, never a failure
// of the orchestration. UpdateOption is typed by the update's argument,
// so a validator of the wrong type does not compile; it follows the
// module's one option idiom (a func type over unexported settings).
//
// # Determinism
//
// An orchestration's state is its history: every step it took is recorded,
// and after a restart the engine re-runs the code against the history to
// rebuild it. The code must therefore take the same decisions every time:
// take time from Context.Now, random values from NewUUID or SideEffect,
// iterate maps in sorted order, run concurrent work with Go rather than the
// go statement, wait with futures rather than channels or time.Sleep, and
// do every I/O in an activity. Code that diverges from its history fails
// with a *NondeterminismError ([CB1100]) naming the step, what history
// recorded and what the code did; code that blocks outside the engine
// fails with a *DeadlockError ([CB1200]). Use GetVersion to change code
// under running instances.
//
// Coroutines are scheduled cooperatively: one runs at a time, until it
// waits on a future that is not ready. Results are decoded from their
// encoded form even on the first run, so a live run and a replay see the
// same values.
//
// # Errors
//
// An activity that fails after its retries gives an *ActivityError; it
// unwraps to an *activity.Error with the activity's error type, and to
// ErrTimeout, ErrNotRegistered, ErrPanic or ErrCanceled where they apply. A
// failed sub-orchestration gives a *SubOrchestrationError, a fan-in an
// *IndexedError naming the first failed future. Invalid options and
// payloads that cannot be encoded (or are over the size limit) fail the
// call's future at once, naming the problem; nothing is scheduled. A panic
// in orchestrator code fails the orchestration with the stack.
//
// Terminating an orchestration cancels its context: waits return
// ErrCanceled, so it can run compensations under WithoutCancel before it
// returns.
//
// # Testing
//
// The orchestrationtest package runs orchestrators in unit tests on the
// real replay engine, with mocked activities and virtual time, and replays
// every run (and exported golden histories) to catch nondeterminism before
// production.
package orchestration
