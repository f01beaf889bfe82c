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
// # Processes
//
// One worker per database file: a second worker process on the same file
// is refused with ErrWorkerRunning (a lock file beside the database). Any
// number of processes may use the client on the same file (start, status,
// raise, terminate, ...); the worker picks their work up within
// Options.PollInterval.
package embedded
