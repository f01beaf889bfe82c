package client

import "time"

// AttemptState is what became of one attempt of an activity call.
type AttemptState string

// Attempt states. An attempt that failed, timed out or was canceled is
// followed by a later attempt of the same call when the retry policy
// retried it.
const (
	AttemptScheduled AttemptState = "Scheduled" // due (or waiting for its due time), not started
	AttemptRunning   AttemptState = "Running"   // started, no outcome yet
	AttemptCompleted AttemptState = "Completed" // returned a result
	AttemptFailed    AttemptState = "Failed"    // returned an error, panicked, or was cut short by a crash
	AttemptTimedOut  AttemptState = "TimedOut"  // exceeded its start-to-close or heartbeat timeout
	AttemptCanceled  AttemptState = "Canceled"  // stopped by Terminate (before or while it ran)
)

// Finished reports whether s is an outcome.
func (s AttemptState) Finished() bool {
	return s != AttemptScheduled && s != AttemptRunning
}

// ActivityAttempt is one attempt of one activity call of an instance's
// run: the data of a timeline of the run's activities, from which a
// fan-out's width, its stragglers and its retries can be read.
//
// Times are the engine's. On the embedded engine every attempt is listed
// with its times. On Temporal, which keeps only an activity's last
// attempt and the failure of the one before, the earlier attempts have
// zero times (see engine/temporal).
type ActivityAttempt struct {
	// TaskID is the call's sequence number in its run.
	TaskID int64 `json:"taskId"`
	// Name is the activity.
	Name string `json:"name"`
	// Attempt counts from 1.
	Attempt int `json:"attempt"`
	// MaxAttempts is the call's retry policy's bound on its attempts; 0
	// when it has none (one attempt, or unbounded) or it is not known.
	MaxAttempts int `json:"maxAttempts,omitempty"`
	// ScheduledAt is when this attempt became due: the call's schedule
	// time for attempt 1, the retry's due time after. Zero: not known
	// (see the engine's documentation).
	ScheduledAt time.Time `json:"scheduledAt"`
	// StartedAt is when the attempt started; zero: not started, or not
	// known (see the engine's documentation).
	StartedAt time.Time `json:"startedAt,omitzero"`
	// FinishedAt is when the attempt's outcome was known; zero: not
	// finished, or not known.
	FinishedAt time.Time    `json:"finishedAt,omitzero"`
	State      AttemptState `json:"state"`
	// Failure is this attempt's error (Failed, TimedOut, Canceled), when
	// known.
	Failure *Failure `json:"failure,omitempty"`
}
