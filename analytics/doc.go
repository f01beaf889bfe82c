// Package analytics runs data-parallel jobs as durable orchestrations, in
// the spirit of PyWren and Lithops: your single-machine code, as
// activities, fanned out over serverless functions, with every step
// recorded so a job survives crashes and restarts.
//
// # Input
//
// Partition (and the PartitionActivity that runs it) splits the objects
// under a prefix of a storage.Store into Chunks by byte range, by chunk
// size or by chunk count. Chunks keep line integrity: ReadLines yields the
// whole lines that start inside a chunk, skipping a partial first line and
// reading past the end to finish the last one, so that the lines of all
// chunks are exactly the lines of the input. Pack groups small chunks into
// batches of about a target size.
//
// # Map and MapReduce
//
// Map calls an activity once per item with bounded concurrency and a
// failure policy (fail fast, or tolerate up to N or P% failures, reporting
// which items failed). MapReduce maps, then combines the outputs with a
// reduce activity in a tree of fan-in K; MapReduceByKey partitions the map
// outputs by key into R reducers.
//
// These functions run inside orchestrator code: they are deterministic and
// do no I/O of their own; storage is only read in activities.
//
// Their activity calls start from the default call options of the context
// they are given (orchestration.WithCallOptions), in sub-orchestrations
// too; the WithRetry and WithStartToCloseTimeout options of a map
// override them. Options are checked before anything is scheduled: a bad
// value is an error naming the option, e.g.
//
//	analytics.Map("count-words"): WithFanIn(1): want at least 2
//
// # Large jobs
//
// A history grows with every call. With the MaxItemsPerOrchestration
// option, Map and MapReduce run groups of at most that many items in
// sub-orchestrations (nested as deep as needed), so no single history
// holds more than about that many calls. The sub-orchestrators are
// generic: create them with MapOrchestrator, MapReduceOrchestrator or
// MapReduceByKeyOrchestrator for the same activities, and register them on
// every worker that runs the calling orchestrator:
//
//	w.RegisterOrchestrators(WordCount, analytics.MapReduceByKeyOrchestrator(CountWords, MergeCounts))
//
// A sub-orchestrator that no worker registers is not an error: like any
// orchestration of an unregistered name, its instances wait for a worker
// that registers it, and their status says so ("orchestrator
// "analytics.map:count" is not registered on the worker"); in unit tests
// the harness reports the run stuck, naming them.
//
// Each payload (an activity's input or result, a sub-orchestration's input
// or result) still has to fit the codec's size limit: keep items small
// (chunk descriptors, not data) and results summarised.
//
// # Errors
//
// Item failures are reported as ItemFailures (index, error type, message);
// a policy that is exceeded gives a *MapError matching ErrTooManyFailures.
// Bad input (a missing bucket or directory, an empty corpus, an invalid
// request) fails the partition activity with the non-retryable type
// ErrorTypeBadInput.
//
// # Testing
//
// The orchestrationtest package runs orchestrators that use Map and
// MapReduce with real or mocked activities, and checks that their
// histories replay.
package analytics
