// Package embedded is CloudButton's default engine: orchestrations on the
// replay engine, durable in one SQLite file (modernc.org/sqlite, pure Go,
// WAL mode), with nothing to install.
//
//	eng, err := embedded.Open(ctx, "app.db", embedded.Options{})
//	defer eng.Close()
//	w := worker.New(eng, worker.Options{})
//	w.RegisterOrchestrators(WordCount)
//	w.RegisterActivities(CountWords)
//	w.Start(ctx)
//	id, err := client.Start(ctx, eng, WordCount, job)
//	out, err := client.Result(ctx, eng, WordCount, id)
//
// # Durability
//
// Each batch of orchestration steps commits in one transaction: the new
// history events, the activity tasks and timers they schedule, and the
// inbox messages and activity results they consumed. A committed step
// survives kill -9 (Durability ProcessCrash, the default) or power loss
// (PowerLoss). Activities run at least once: a task whose result was not
// committed runs again after a restart, as its next attempt with its own
// idempotency key. Retry state is durable (attempt number, due time, and a
// start mark for activities with a retry policy), so restarts neither
// reset nor exceed MaxAttempts; an attempt cut short by a crash counts.
//
// # Usage
//
// What an invoker reports each attempt was billed (faas.ReportUsage: the
// Lambda invoker, from the REPORT line of AWS or the local function host)
// is added to the instance's counters (client.Status.Usage) in the
// transaction that records the attempt's outcome: its result, its final
// failure, or its retry. So a crash after that commit neither loses nor
// doubles the attempt's cost; an attempt lost with the process before it
// runs again, and only the attempt that is recorded counts. The sums are
// kept across continue-as-new and reset when the instance id is reused.
// Status adds its sub-orchestrations' (SubOrchestrationUsage: every
// descendant, running or ended, with one indexed query); List leaves that
// nil. An invoker that reports nothing (the in-process one) costs nothing:
// its steps write no counter.
//
// # Activity attempts
//
// ActivityAttempts lists every attempt of the current run's activity
// calls, with its times, failure and state (the data of the dashboard's
// timeline). An attempt's outcome is recorded with its start time in the
// call's result event (its "attempts" in an exported history: startedAt,
// and the attempts retried before it; information only, replay ignores
// it); while a call retries, its retried attempts travel in its retry
// state, so a crash keeps them. So nothing is written for it beyond what
// the steps write already: an activity without a retry policy adds its
// start time to its result row. Limits follow. Such an activity starts
// without a durable mark, so a client of another process than the
// worker's sees its running attempt as Scheduled until its outcome is
// recorded; a client in the worker's process sees it Running, but for the
// moment between its end and the commit of its result (milliseconds).
// Such an attempt lost with its worker is listed Failed (Interrupted)
// without a start, finished when the next worker found it; an attempt
// with a retry policy cut short by a crash keeps its start. A call its run
// did not wait for before it ended stays as it was then (Scheduled, or
// Running). Histories written before this release list each call's last
// attempt only, without its start.
//
// # Explain
//
// client.Explain reads the run's pending timers and sub-orchestrations
// from its history, its activity calls from ActivityAttempts, and
// whether a worker runs from the worker lock (a shared lock on
// "<db>-worker.alive" that the worker holds for its life; the probe never
// makes a starting worker fail). The code's waits for external events
// are not in history: the worker's process knows them (and keeps them
// after its worker stopped, until a worker starts); another process sees
// an instance waiting on nothing history records as WaitUnknown. The
// reason given to Suspend is not kept.
//
// # Processes
//
// One worker per database file: a second worker process on the same file
// is refused with ErrWorkerRunning (a lock file beside the database). Any
// number of processes may use the client on the same file (start, status,
// raise, terminate, ...); the worker picks their work up within
// Options.PollInterval. The lock is the file's: symbolic links are
// resolved, and a file with several hard links is refused (SQLite keeps
// the write-ahead log beside the name it was opened by).
//
// Queries and updates (client.Query, client.Update) are answered from the
// live instance by the worker, so they need the worker's process: from
// another process they are an error that says so and matches
// client.ErrNotRunning.
//
// # Schedules
//
// The engine implements client.Schedules (cron and interval schedules,
// see client.CreateSchedule). The worker fires them: each slot's instance
// (id: the schedule id, "-", the slot in RFC 3339) is written in one
// transaction with the schedule's cursor past the slot, from the schedule
// version read, so a crash at any moment neither skips nor repeats a slot,
// and only the worker holding the lock fires. Clients of any process
// create, pause, trigger, backfill and delete schedules; the worker sees
// their changes within Options.PollInterval.
//
// # Storage faults
//
// Open refuses, naming the file and the cause, what would lose committed
// steps or fail later: a file that is not a database or is corrupt, an
// emptied database whose worker lock or log is still beside it, a
// write-ahead log deleted after a crash while its index (-shm) still
// records frames, a read-only file or directory. A commit that fails for
// want of storage (a full disk, an I/O error, a file made read-only) is
// retried as it was, with back-off up to 10 s, and logged once; the work
// resumes when the storage is back, and nothing runs again. An instance
// with a history row or inbox message that does not decode is quarantined
// (Status.Blocked says what is corrupt) while the others keep running;
// each worker start tries it again. Deleting the -wal and -shm files of a
// crashed database together cannot be detected: it loses the steps
// committed since the last checkpoint.
package embedded
