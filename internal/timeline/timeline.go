// Package timeline holds the rules that every engine follows to list the
// attempts of an instance's activity calls (client.ActivityAttempt): what
// state a failure means, how a recorded failure is shown, and the order.
package timeline

import (
	"cmp"
	"slices"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// State is the state of an attempt that failed with f (nil: for no
// reason recorded).
func State(f *core.Failure) client.AttemptState {
	switch {
	case f == nil:
		return client.AttemptFailed
	case f.Type == core.FailureTimeout:
		return client.AttemptTimedOut
	case f.Type == core.FailureCanceled:
		return client.AttemptCanceled
	}
	return client.AttemptFailed
}

// Failure is the client's view of a recorded failure (nil for nil).
func Failure(f *core.Failure) *client.Failure {
	if f == nil {
		return nil
	}
	return &client.Failure{Type: f.Type, Message: f.Message, Stack: f.Stack,
		Activity: f.Activity, SubOrchestration: f.SubOrchestration}
}

// Completed is attempt a, which returned a result.
func Completed(a client.ActivityAttempt) client.ActivityAttempt {
	a.State, a.Failure = client.AttemptCompleted, nil
	return a
}

// Failed is attempt a, which failed with f.
func Failed(a client.ActivityAttempt, f *core.Failure) client.ActivityAttempt {
	a.State, a.Failure = State(f), Failure(f)
	return a
}

// Sort puts attempts in schedule order: by task id, then attempt.
func Sort(as []client.ActivityAttempt) {
	slices.SortStableFunc(as, func(a, b client.ActivityAttempt) int {
		return cmp.Or(cmp.Compare(a.TaskID, b.TaskID), cmp.Compare(a.Attempt, b.Attempt))
	})
}
