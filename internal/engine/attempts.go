package engine

import (
	"context"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
	"github.com/cloudbutton/cloudbutton/internal/timeline"
)

// ActivityAttempts implements client.Client. A call with an outcome is
// read from its result event, which carries the start of the attempt
// that produced it and the attempts retried before it. A call in flight
// is read from its retry state (the attempts row: attempts retried so
// far, the current one's due time and durable start) and, when the worker
// runs in this process, from the attempts running now: an activity
// without a retry policy starts without a durable mark (that is what
// keeps it cheap), so from another process its running attempt shows as
// Scheduled until its outcome is recorded.
func (e *Engine) ActivityAttempts(ctx context.Context, id string) ([]client.ActivityAttempt, error) {
	in, err := e.instance(ctx, id)
	if err != nil {
		return nil, err
	}
	// The attempts running now and the retry state before the history: a
	// result recorded in between is in the history read, and wins over
	// its task's stale row or running attempt.
	live := e.runningAttempts(id, in.Generation)
	rows, err := e.store.Attempts(ctx, id)
	if err != nil {
		return nil, err
	}
	hist, err := e.store.History(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(hist) > 0 && hist[0].Generation != in.Generation {
		live, rows = nil, nil // it continued as new meanwhile: those were the old run's
	}
	return attemptsOf(hist, rows, live), nil
}

// runningAttempt is an attempt running in this process's worker.
type runningAttempt struct {
	attempt int
	started time.Time
}

// runningAttempts returns the attempts of generation of instance id that
// run in this process's worker now, by task id (nil without a worker).
func (e *Engine) runningAttempts(id string, generation int) map[int64]runningAttempt {
	e.mu.Lock()
	p := e.proc
	e.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.runner.runningAttempts(id, generation)
}

// attemptsOf lists the attempts of the activity calls of a run's history,
// in schedule order, with the run's retry state (rows) and the attempts
// running in this process (live).
func attemptsOf(hist []replay.Event, rows map[int64]store.Attempt, live map[int64]runningAttempt) []client.ActivityAttempt {
	results := map[int64]*replay.Event{}
	n := 0
	for i := range hist {
		switch e := &hist[i]; e.Type {
		case replay.ActivityScheduled:
			n++
		case replay.ActivityCompleted, replay.ActivityFailed:
			if results[e.TaskID] == nil {
				results[e.TaskID] = e
			}
		}
	}
	out := make([]client.ActivityAttempt, 0, n)
	for i := range hist {
		s := &hist[i]
		if s.Type != replay.ActivityScheduled {
			continue
		}
		call := client.ActivityAttempt{TaskID: s.TaskID, Name: s.Name, Attempt: 1, ScheduledAt: s.Time}
		if s.Options != nil && s.Options.Retry != nil && s.Options.Retry.MaxAttempts > 1 {
			call.MaxAttempts = s.Options.Retry.MaxAttempts
		}
		if r := results[s.TaskID]; r != nil {
			out, call = appendRetried(out, call, r.Retried())
			call.Attempt = max(r.Attempt, call.Attempt)
			call.StartedAt, call.FinishedAt = r.StartedAt(), r.Time
			if r.Type == replay.ActivityFailed {
				out = append(out, timeline.Failed(call, r.Failure))
			} else {
				out = append(out, timeline.Completed(call))
			}
			continue
		}
		call.State = client.AttemptScheduled
		if row, ok := rows[s.TaskID]; ok {
			out, call = appendRetried(out, call, row.Retried)
			call.Attempt = max(row.Attempt, call.Attempt)
			if !row.DueAt.IsZero() {
				call.ScheduledAt = row.DueAt
			}
			if row.Started {
				call.State, call.StartedAt = client.AttemptRunning, row.StartedAt
			}
		}
		if r, ok := live[s.TaskID]; ok && r.attempt >= call.Attempt {
			call.Attempt, call.State, call.StartedAt = r.attempt, client.AttemptRunning, r.started
		}
		out = append(out, call)
	}
	timeline.Sort(out)
	return out
}

// appendRetried appends a call's retried attempts (recorded in its result
// or retry state) to out, and returns the call's next attempt: the one
// after the last retried, due at its retry time.
func appendRetried(out []client.ActivityAttempt, call client.ActivityAttempt, retried []replay.AttemptRecord) ([]client.ActivityAttempt, client.ActivityAttempt) {
	for _, rec := range retried {
		a := call
		a.Attempt, a.StartedAt, a.FinishedAt = rec.Attempt, rec.StartedAt, rec.FinishedAt
		out = append(out, timeline.Failed(a, rec.Failure))
		call.Attempt, call.ScheduledAt = rec.Attempt+1, rec.RetryAt
	}
	return out, call
}
