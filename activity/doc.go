// Package activity is the API for activity code: the steps of an
// orchestration, run as FaaS invocations (in-process, on AWS Lambda, or on
// the local Lambda-compatible function host).
//
// An activity is an ordinary Go function that takes a context.Context
// first:
//
//	var CountWords = activity.New("count-words",
//		func(ctx context.Context, chunk Chunk) (map[string]int, error) { ... })
//
// # Delivery and idempotency
//
// Activities are delivered at least once: a crash of the worker, a lost
// response or a timeout re-runs an attempt. InfoFrom gives the attempt's
// IdempotencyKey (and TaskKey, shared by all attempts) so side effects can
// be deduplicated.
//
// # Errors
//
// Return an *Error (NewError, NewNonRetryableError) to give a failure a
// type that orchestrators and retry policies can match; any other error
// becomes type "Error". Panics are recovered into type "Panic" with the
// stack. Undecodable input fails with type "DecodeError", never retried.
//
// # Testing
//
// Run calls the typed function directly; the orchestrationtest package
// runs activities (or mocks of them) under a test orchestration.
package activity
