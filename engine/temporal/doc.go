// Package temporal is the Temporal engine: the same orchestrator code that
// runs on the embedded engine runs, unchanged, as Temporal workflows on a
// Temporal cluster, with activities still dispatched as FaaS invocations.
//
//	eng, err := temporal.Open(ctx, temporal.Options{HostPort: "127.0.0.1:7233", TaskQueue: "cloudbutton"})
//	w := worker.New(eng, worker.Options{})
//	w.RegisterOrchestrators(WordCount)
//	w.RegisterActivities(SplitInput, CountWords)
//	err = w.Start(ctx)
//	id, err := client.Start(ctx, eng, WordCount, job)
//
// # Per-key limits
//
// Not mapped yet: a worker given worker.Options.KeyLimits is refused with
// ErrUnsupported, and a call's orchestration.WithKey is recorded but
// limits nothing. The mapping planned is a task queue per limited key
// ("<queue>/key/<key>"), polled by workers whose
// TaskQueueActivitiesPerSecond is the key's rate (enforced by the server
// over all workers, as here) and whose MaxConcurrentActivityExecutionSize
// is its in-flight bound (enforced per worker, so N workers allow N times
// the bound), and without round robin between workflows (Temporal's task
// queues are served about in order of arrival).
//
// # Deduplicated and debounced starts
//
// Not mapped yet: a start with client.WithDedup or client.WithDebounce
// is refused with ErrUnsupported. The mapping planned: a deduplicated
// start is the workflow id "dedup/<key>" with WorkflowIDConflictPolicy
// UseExisting, which deduplicates while the run is open and not for a
// window after it closed (Temporal's reuse policies know no window); a
// debounced start is a signal-with-start of a debouncer workflow per
// key that keeps the last input and starts the run when its timer fires.
//
// # Mapping
//
// Each orchestrator is a Temporal workflow of the same name; its
// orchestration.Context is implemented over workflow.Context: activity
// calls are ExecuteActivity (retry policy and timeouts mapped), timers
// NewTimer, external events signals of the event's name (buffered in
// order; a wait that times out leaves later events for the next wait),
// sub-orchestrations child workflows (parent close policy: request
// cancel), continue-as-new NewContinueAsNewError, versions GetVersion
// (our DefaultVersion 0 is Temporal's -1), SideEffect SideEffect, Now
// workflow.Now, NewUUID a UUID derived from the run id, the custom status
// the "custom-status" query (raw codec bytes, for the Temporal CLI), the
// logger a replay-safe slog.Logger, query handlers SetQueryHandler of the
// same name, update handlers SetUpdateHandlerWithOptions with the
// validator (the client's UpdateWorkflow waits for completion; a query to
// a closed workflow is refused, as on the embedded engine; their errors
// are the client package's sentinels).
// Terminate is Temporal cancellation, so the orchestrator can compensate
// (orchestration.WithoutCancel is a disconnected context).
//
// Every activity runs through one dynamic Temporal activity that calls the
// worker's faas.Invoker; remote invocations are heartbeated. Activity
// errors become Temporal application errors of the same type, retryable
// or not as the activity said, and come back to the orchestrator as the same
// *orchestration.ActivityError (Type, Message) as on the embedded engine.
//
// Payloads are the codec's bytes, unchanged: with the JSON codec they are
// "json/plain" payloads, so the Temporal UI and CLI show them as JSON.
//
// # Large fan-outs
//
// Temporal refuses more than 2,000 pending activities per workflow. Past
// Options.MaxPendingActivities in flight, further activities run in batch
// child workflows (BatchWorkflowName) of Options.BatchSize each, which
// keeps each history bounded; the orchestrator code does not change.
//
// # A local dev server
//
// The Temporal CLI is a Go module (a long build, 5-8 minutes):
//
//	go install github.com/temporalio/cli/cmd/temporal@v1.5.1
//
// Start it on loopback with the recommended local settings: the dev
// server's default transfer poll rate (20/s on its single shard) caps a
// sequence at about 100 ms per step, and one task-queue partition avoids
// multi-second stragglers with few pollers:
//
//	temporal server start-dev --ip 127.0.0.1 --headless \
//	  --dynamic-config-value history.transferProcessorMaxPollRPS=10000 \
//	  --dynamic-config-value history.timerProcessorMaxPollRPS=10000 \
//	  --dynamic-config-value matching.numTaskqueueReadPartitions=1 \
//	  --dynamic-config-value matching.numTaskqueueWritePartitions=1
//
// With --db-filename, add --sqlite-pragma synchronous=off where losing
// the last commits on a machine crash is acceptable (tests, benchmarks):
// it triples throughput. The package internal/devserver starts exactly
// this, for the tests (through internal/temporaltest) and for
// `cloudbutton bench --temporal dev`.
//
// # Schedules
//
// The engine implements client.Schedules with Temporal Schedules (the
// SDK's ScheduleClient): the spec (a cron expression in its time zone, or
// an interval aligned on the epoch), jitter, overlap policy, catch-up
// window, pause with its note and the limit map onto Temporal's, and the
// workflows it starts are named as on the embedded engine (the schedule id,
// "-", the slot). What differs: OverlapCancelPrevious is CANCEL_OTHER,
// which starts the new run once the cancelled one has closed; Temporal
// draws its own jitter and applies its own rule at daylight-saving
// changes; TriggerSchedule waits for the schedule's workflow to start the
// run (Temporal takes triggers asynchronously); BackfillSchedule gives
// Temporal one short range per slot whose workflow does not exist, so that
// each slot runs once, and returns their ids before they start; the
// catch-up window is at least 10 s; ListSchedules lists the namespace's
// schedules that start on the engine's task queue.
//
// # Suspend and Resume
//
// Temporal's Workflow Pause needs a newer server than the Temporal CLI's
// dev server this module tests with, so Suspend and Resume are a signal
// ("cloudbutton.control", a reserved event name) that the workflow
// honours: while suspended, orchestrator code takes no step, and what
// becomes ready meanwhile (activity results, timers, events) waits for
// Resume, as on the embedded engine; activities already scheduled keep
// running, and Terminate still ends the instance. The state is in the
// memo ("cloudbutton.suspended"), which Status and List read. Unlike the
// embedded engine, where Suspend takes effect at once, a worker has to
// process the signal: Suspend waits for it, at most
// Options.TerminateWait; with no worker running, the instance reads
// Running until one does.
//
// # Rewind
//
// Rewind is ResetWorkflowExecution to the last workflow task completed
// before the run's first failure (before a failed child workflow was
// started), a new run of the workflow id; signals that came after that
// point are delivered again, Suspend and Resume included. Unlike the
// embedded engine, the results recorded after the point are not kept:
// activities that succeeded after the first failure run again, and a
// failed child workflow starts again from its beginning (see
// Engine.Rewind).
//
// # Status
//
// Status reads a live orchestration's custom status and activity progress
// with the "cloudbutton.status" query (answered by a worker, bounded by
// 5s); an orchestration that set a custom status records it, with its
// progress, in its memo when it ends, so closed ones need no worker.
// Progress counts the activities of the current run (since the last
// continue-as-new); a closed orchestration that set no custom status
// and was billed nothing reports none.
//
// # Usage
//
// What an invoker reports each attempt was billed (faas.ReportUsage)
// travels with the attempt's outcome and the workflow sums it (usage.go):
// a result carries it in its payload's metadata ("cloudbutton-usage"), a
// failure as a detail of its application error, and since Temporal retries
// on the server and records only an activity's last attempt, a failed
// attempt heartbeats the sum so far, which the next attempt reads back.
// The orchestrator sees none of it; histories without it replay as
// before. Status.Usage comes from the status query while the orchestration
// runs, and from its memo, written as it ends when the usage is not zero.
// It is nil (not available) when no worker answers the query, and for an
// orchestration closed by Temporal rather than by its code (a Temporal
// terminate or workflow timeout, or the SDK failing it for a panic or
// nondeterminism): the sum is lost with it. Compared with the embedded
// engine: an attempt that Temporal times out counts only if its invoker
// reported its usage before the timeout (the Lambda invoker reports
// nothing for an invocation cut off at its deadline on either engine);
// the sum counts the outcomes the orchestrator's code read, and at the
// end every outcome in history; activities of batch workflows count as
// the orchestration's own. SubOrchestrationUsage sums the
// sub-orchestrations found in visibility (ParentWorkflowId, one list call
// per instance of the tree, which may miss a child started a moment ago),
// each read as Status reads it; it is nil when one cannot be told or the
// visibility store cannot filter on ParentWorkflowId, and it counts the
// children of every run that had the instance's id. List leaves Usage
// nil: it reads visibility only.
//
// # OpenTelemetry
//
// A worker with worker.Options.TracerProvider emits the embedded engine's
// spans: one per workflow run ("orchestration NAME", ended by the worker
// that runs its last workflow task, not on replay; without
// telemetry.IDGenerator, started by the one that runs its first, or by a
// worker the workflow moves to at its first new command) and one per
// activity attempt ("activity NAME"). The engine's clients carry the W3C
// traceparent in a Temporal header ("cloudbutton-traceparent", a context
// propagator): from a traced ctx that starts a workflow, and from a run
// to its activities, child workflows and batch workflows. Temporal's
// contrib/opentelemetry interceptor is not used: its span names and tags
// are Temporal's, and its workflow span is per workflow task execution.
// See package telemetry for what differs from the embedded engine.
//
// # Activity attempts
//
// ActivityAttempts reads the latest run's history and, while it runs,
// its pending activities (DescribeWorkflowExecution), and those of its
// batch workflows. Temporal keeps only an activity's last attempt and
// the failure of the one before, so compared with the embedded engine:
// the attempts before the last are listed, numbered and Failed, but
// without their times (only the first has its ScheduledAt, the call's
// schedule time), and only the one just before the last has its Failure;
// whether one of them timed out is not kept. Once a call has its
// outcome, its last attempt has its start and finish but, after a retry,
// no ScheduledAt (Temporal records when the first attempt was scheduled
// only). While a call is pending, its current attempt has its due time
// (and its start, Running, once a worker took it), and the attempt
// before it its finish time and failure. A call its run did not wait for
// before it closed is listed Scheduled. A client needs no worker for any
// of it.
//
// # Explain
//
// client.Explain reads the suspension (time and reason) from the memo,
// whether a worker runs from DescribeTaskQueue (a poller seen in the last
// two minutes: a stopped worker is noticed only once its poller is that
// old), an unknown workflow type from the failing workflow task, pending
// children from DescribeWorkflowExecution (not the batches of a large
// fan-out), timers started and not fired from history, activity calls
// from ActivityAttempts (MaxAttempts from the retry policy), and the
// waits for external events from the status query, which a worker
// answers: without a worker they are not listed.
//
// # Testing
//
// ReplayHistory and ReplayHistoryFile replay a Temporal history (as
// exported by ExportHistory or `temporal workflow show --output json`)
// against current orchestrator code and report divergence.
package temporal
