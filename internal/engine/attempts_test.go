package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

func TestAttemptsOf(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	fail := &core.Failure{Type: "Transient", Message: "no"}
	canceled := &core.Failure{Type: core.FailureCanceled, Message: "canceled"}
	timedOut := &core.Failure{Type: core.FailureTimeout, Message: "too slow"}
	sched := func(task int64) replay.Event {
		return replay.Event{Type: replay.ActivityScheduled, TaskID: task, Name: "act", Time: at(0)}
	}
	retried := []replay.AttemptRecord{
		{Attempt: 1, StartedAt: at(1), FinishedAt: at(2), Failure: fail, RetryAt: at(10)},
		{Attempt: 2, StartedAt: at(11), FinishedAt: at(12), Failure: timedOut, RetryAt: at(30)},
	}
	tests := []struct {
		name string
		hist []replay.Event
		rows map[int64]store.Attempt
		live map[int64]runningAttempt
		want []client.ActivityAttempt
	}{{
		name: "completed, in task order whatever the order of results",
		hist: []replay.Event{sched(1), sched(2),
			{Type: replay.ActivityCompleted, TaskID: 2, Attempt: 1, Time: at(5), Attempts: &replay.AttemptLog{StartedAt: at(3)}},
			{Type: replay.ActivityCompleted, TaskID: 1, Attempt: 1, Time: at(6), Attempts: &replay.AttemptLog{StartedAt: at(4)}}},
		want: []client.ActivityAttempt{
			{TaskID: 1, Name: "act", Attempt: 1, ScheduledAt: at(0), StartedAt: at(4), FinishedAt: at(6), State: client.AttemptCompleted},
			{TaskID: 2, Name: "act", Attempt: 1, ScheduledAt: at(0), StartedAt: at(3), FinishedAt: at(5), State: client.AttemptCompleted},
		},
	}, {
		name: "retried twice, then failed: each attempt due at the retry time of the one before",
		hist: []replay.Event{sched(1), {Type: replay.ActivityFailed, TaskID: 1, Attempt: 3, Time: at(40), Failure: fail,
			Attempts: &replay.AttemptLog{StartedAt: at(31), Retried: retried}}},
		want: []client.ActivityAttempt{
			{TaskID: 1, Name: "act", Attempt: 1, ScheduledAt: at(0), StartedAt: at(1), FinishedAt: at(2), State: client.AttemptFailed,
				Failure: &client.Failure{Type: "Transient", Message: "no"}},
			{TaskID: 1, Name: "act", Attempt: 2, ScheduledAt: at(10), StartedAt: at(11), FinishedAt: at(12), State: client.AttemptTimedOut,
				Failure: &client.Failure{Type: core.FailureTimeout, Message: "too slow"}},
			{TaskID: 1, Name: "act", Attempt: 3, ScheduledAt: at(30), StartedAt: at(31), FinishedAt: at(40), State: client.AttemptFailed,
				Failure: &client.Failure{Type: "Transient", Message: "no"}},
		},
	}, {
		name: "canceled before it started",
		hist: []replay.Event{sched(1), {Type: replay.ActivityFailed, TaskID: 1, Attempt: 1, Time: at(7), Failure: canceled}},
		want: []client.ActivityAttempt{{TaskID: 1, Name: "act", Attempt: 1, ScheduledAt: at(0), FinishedAt: at(7),
			State: client.AttemptCanceled, Failure: &client.Failure{Type: core.FailureCanceled, Message: "canceled"}}},
	}, {
		name: "a history older than the attempt data: the last attempt, without its start",
		hist: []replay.Event{sched(1), {Type: replay.ActivityCompleted, TaskID: 1, Attempt: 2, Time: at(9)}},
		want: []client.ActivityAttempt{{TaskID: 1, Name: "act", Attempt: 2, ScheduledAt: at(0), FinishedAt: at(9), State: client.AttemptCompleted}},
	}, {
		name: "not started, no retry state",
		hist: []replay.Event{sched(1)},
		want: []client.ActivityAttempt{{TaskID: 1, Name: "act", Attempt: 1, ScheduledAt: at(0), State: client.AttemptScheduled}},
	}, {
		name: "a retry waiting for its due time",
		hist: []replay.Event{sched(1)},
		rows: map[int64]store.Attempt{1: {TaskID: 1, Attempt: 2, DueAt: at(10), Retried: retried[:1]}},
		want: []client.ActivityAttempt{
			{TaskID: 1, Name: "act", Attempt: 1, ScheduledAt: at(0), StartedAt: at(1), FinishedAt: at(2), State: client.AttemptFailed,
				Failure: &client.Failure{Type: "Transient", Message: "no"}},
			{TaskID: 1, Name: "act", Attempt: 2, ScheduledAt: at(10), State: client.AttemptScheduled},
		},
	}, {
		name: "a retry marked started (from any process)",
		hist: []replay.Event{sched(1)},
		rows: map[int64]store.Attempt{1: {TaskID: 1, Attempt: 2, DueAt: at(10), Started: true, StartedAt: at(11), Retried: retried[:1]}},
		want: []client.ActivityAttempt{
			{TaskID: 1, Name: "act", Attempt: 1, ScheduledAt: at(0), StartedAt: at(1), FinishedAt: at(2), State: client.AttemptFailed,
				Failure: &client.Failure{Type: "Transient", Message: "no"}},
			{TaskID: 1, Name: "act", Attempt: 2, ScheduledAt: at(10), StartedAt: at(11), State: client.AttemptRunning},
		},
	}, {
		name: "running in this process without a retry policy (no row)",
		hist: []replay.Event{sched(1), sched(2)},
		live: map[int64]runningAttempt{2: {attempt: 1, started: at(3)}},
		want: []client.ActivityAttempt{
			{TaskID: 1, Name: "act", Attempt: 1, ScheduledAt: at(0), State: client.AttemptScheduled},
			{TaskID: 2, Name: "act", Attempt: 1, ScheduledAt: at(0), StartedAt: at(3), State: client.AttemptRunning},
		},
	}, {
		name: "a result wins over a stale row and a stale running attempt",
		hist: []replay.Event{sched(1), {Type: replay.ActivityCompleted, TaskID: 1, Attempt: 1, Time: at(5), Attempts: &replay.AttemptLog{StartedAt: at(3)}}},
		rows: map[int64]store.Attempt{1: {TaskID: 1, Attempt: 1, Started: true, StartedAt: at(3)}},
		live: map[int64]runningAttempt{1: {attempt: 1, started: at(3)}},
		want: []client.ActivityAttempt{{TaskID: 1, Name: "act", Attempt: 1, ScheduledAt: at(0), StartedAt: at(3), FinishedAt: at(5), State: client.AttemptCompleted}},
	}, {
		name: "an older running attempt does not hide the row's newer one",
		hist: []replay.Event{sched(1)},
		rows: map[int64]store.Attempt{1: {TaskID: 1, Attempt: 2, DueAt: at(10), Retried: retried[:1]}},
		live: map[int64]runningAttempt{1: {attempt: 1, started: at(1)}},
		want: []client.ActivityAttempt{
			{TaskID: 1, Name: "act", Attempt: 1, ScheduledAt: at(0), StartedAt: at(1), FinishedAt: at(2), State: client.AttemptFailed,
				Failure: &client.Failure{Type: "Transient", Message: "no"}},
			{TaskID: 1, Name: "act", Attempt: 2, ScheduledAt: at(10), State: client.AttemptScheduled},
		},
	}, {
		name: "a duplicate result is recorded once",
		hist: []replay.Event{sched(1), {Type: replay.ActivityCompleted, TaskID: 1, Attempt: 1, Time: at(5)},
			{Type: replay.ActivityCompleted, TaskID: 1, Attempt: 2, Time: at(6)}},
		want: []client.ActivityAttempt{{TaskID: 1, Name: "act", Attempt: 1, ScheduledAt: at(0), FinishedAt: at(5), State: client.AttemptCompleted}},
	}, {
		name: "no activities",
		hist: []replay.Event{{Type: replay.OrchestrationStarted, Time: at(0)}},
		want: []client.ActivityAttempt{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, attemptsOf(tt.hist, tt.rows, tt.live))
		})
	}
}

// TestRecoveredTask: what a worker starting at now makes of a task that
// has no result, from its retry state; the attempts before the next one
// are kept, and one cut short by the crash is recorded.
func TestRecoveredTask(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	policy := &core.ActivityOptions{Retry: &core.RetryPolicy{MaxAttempts: 5}}
	earlier := []replay.AttemptRecord{{Attempt: 1, StartedAt: t0, FinishedAt: t0.Add(time.Second), RetryAt: t0.Add(2 * time.Second)}}
	interrupted := func(attempt int, started time.Time) replay.AttemptRecord {
		return replay.AttemptRecord{Attempt: attempt, StartedAt: started, FinishedAt: now, RetryAt: now,
			Failure: core.InterruptedFailure("act", attempt)}
	}
	tests := []struct {
		name        string
		opts        *core.ActivityOptions
		row         *store.Attempt
		attempt     int
		visibleAt   time.Time
		interrupted bool
		retried     []replay.AttemptRecord
	}{
		{name: "no policy, first attempt lost with the worker", attempt: 2, retried: []replay.AttemptRecord{interrupted(1, time.Time{})}},
		{name: "no policy, a re-run marked started lost too", row: &store.Attempt{TaskID: 1, Attempt: 2, Started: true, StartedAt: t0, Retried: earlier},
			attempt: 3, retried: append(earlier[:1:1], interrupted(2, t0))},
		{name: "policy, never marked", opts: policy, attempt: 1},
		{name: "policy, waiting for its retry", opts: policy, row: &store.Attempt{TaskID: 1, Attempt: 2, DueAt: t0.Add(2 * time.Second), Retried: earlier},
			attempt: 2, visibleAt: t0.Add(2 * time.Second), retried: earlier},
		{name: "policy, interrupted: the runner fails it", opts: policy, row: &store.Attempt{TaskID: 1, Attempt: 2, Started: true, StartedAt: t0.Add(3 * time.Second), Retried: earlier},
			attempt: 2, interrupted: true, retried: earlier},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := task{instanceID: "i", ev: replay.Event{Type: replay.ActivityScheduled, TaskID: 1, Name: "act", Time: t0, Options: tt.opts}}
			var row store.Attempt
			if tt.row != nil {
				row = *tt.row
			}
			got := recoveredTask(in, row, tt.row != nil, now)
			assert.Equal(t, tt.attempt, got.attempt)
			assert.True(t, tt.visibleAt.Equal(got.visibleAt), "visible at %s", got.visibleAt)
			assert.Equal(t, tt.interrupted, got.interrupted)
			assert.Equal(t, tt.retried, got.retried())
			if tt.interrupted {
				assert.True(t, got.startedBefore().Equal(tt.row.StartedAt), "its start is kept for its record")
			}
		})
	}
}
