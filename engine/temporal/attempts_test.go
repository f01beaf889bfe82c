package temporal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// TestAttemptsFromTemporal: what a call's Temporal events and pending
// activity tell of its attempts.
func TestAttemptsFromTemporal(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	ts := func(s int) *timestamppb.Timestamp { return timestamppb.New(at(s)) }
	appFailure := &failurepb.Failure{Message: "attempt 2 fails", FailureInfo: &failurepb.Failure_ApplicationFailureInfo{
		ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: "Transient"}}}
	transient := &client.Failure{Type: "Transient", Message: "attempt 2 fails"}
	started := func(s int, attempt int32, last *failurepb.Failure) *historypb.HistoryEvent {
		return &historypb.HistoryEvent{EventTime: ts(s), EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
			Attributes: &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{
				Attempt: attempt, LastFailure: last}}}
	}
	closed := func(s int, typ enumspb.EventType) *historypb.HistoryEvent {
		ev := &historypb.HistoryEvent{EventTime: ts(s), EventType: typ}
		switch typ {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			ev.Attributes = &historypb.HistoryEvent_ActivityTaskFailedEventAttributes{ActivityTaskFailedEventAttributes: &historypb.ActivityTaskFailedEventAttributes{
				Failure: appFailure}}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			ev.Attributes = &historypb.HistoryEvent_ActivityTaskTimedOutEventAttributes{ActivityTaskTimedOutEventAttributes: &historypb.ActivityTaskTimedOutEventAttributes{
				Failure: &failurepb.Failure{Message: "activity StartToClose timeout", FailureInfo: &failurepb.Failure_TimeoutFailureInfo{
					TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{TimeoutType: enumspb.TIMEOUT_TYPE_START_TO_CLOSE}}}}}
		}
		return ev
	}
	call := client.ActivityAttempt{TaskID: 4, Name: "act", Attempt: 1, ScheduledAt: at(0)}
	attempt := func(n int, state client.AttemptState, sched, start, finish time.Time, f *client.Failure) client.ActivityAttempt {
		return client.ActivityAttempt{TaskID: 4, Name: "act", Attempt: n, ScheduledAt: sched, StartedAt: start, FinishedAt: finish, State: state, Failure: f}
	}
	var none time.Time
	closedTests := []struct {
		name string
		c    activityCallEvents
		want []client.ActivityAttempt
	}{{
		name: "completed at its third attempt: the earlier ones without times, the one before the last with its failure",
		c:    activityCallEvents{started: started(20, 3, appFailure), closed: closed(21, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)},
		want: []client.ActivityAttempt{
			attempt(1, client.AttemptFailed, at(0), none, none, nil),
			attempt(2, client.AttemptFailed, none, none, none, transient),
			attempt(3, client.AttemptCompleted, none, at(20), at(21), nil),
		},
	}, {
		name: "failed at its first attempt",
		c:    activityCallEvents{started: started(1, 1, nil), closed: closed(2, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED)},
		want: []client.ActivityAttempt{attempt(1, client.AttemptFailed, at(0), at(1), at(2), transient)},
	}, {
		name: "timed out",
		c:    activityCallEvents{started: started(1, 1, nil), closed: closed(3, enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)},
		want: []client.ActivityAttempt{attempt(1, client.AttemptTimedOut, at(0), at(1), at(3),
			&client.Failure{Type: core.FailureTimeout, Message: "activity StartToClose timeout"})},
	}, {
		name: "canceled before it started",
		c:    activityCallEvents{closed: closed(5, enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED)},
		want: []client.ActivityAttempt{attempt(1, client.AttemptCanceled, at(0), none, at(5),
			&client.Failure{Type: core.FailureCanceled, Message: core.ErrCanceled.Error()})},
	}}
	for _, tt := range closedTests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, appendClosed(nil, call, &tt.c))
		})
	}

	pendingTests := []struct {
		name string
		p    *workflowpb.PendingActivityInfo
		want []client.ActivityAttempt
	}{{
		name: "no pending activity (its run closed without waiting for it)",
		want: []client.ActivityAttempt{attempt(1, client.AttemptScheduled, at(0), none, none, nil)},
	}, {
		name: "first attempt, not started",
		p:    &workflowpb.PendingActivityInfo{State: enumspb.PENDING_ACTIVITY_STATE_SCHEDULED, Attempt: 1, ScheduledTime: ts(0)},
		want: []client.ActivityAttempt{attempt(1, client.AttemptScheduled, at(0), none, none, nil)},
	}, {
		name: "second attempt running: the first with its failure and finish",
		p: &workflowpb.PendingActivityInfo{State: enumspb.PENDING_ACTIVITY_STATE_STARTED, Attempt: 2, ScheduledTime: ts(10),
			LastStartedTime: ts(11), LastFailure: appFailure, LastAttemptCompleteTime: ts(5)},
		want: []client.ActivityAttempt{
			attempt(1, client.AttemptFailed, at(0), none, at(5), transient),
			attempt(2, client.AttemptRunning, at(10), at(11), none, nil),
		},
	}, {
		name: "third attempt waiting for its due time",
		p: &workflowpb.PendingActivityInfo{State: enumspb.PENDING_ACTIVITY_STATE_SCHEDULED, Attempt: 3, ScheduledTime: ts(30),
			LastFailure: appFailure, LastAttemptCompleteTime: ts(20)},
		want: []client.ActivityAttempt{
			attempt(1, client.AttemptFailed, at(0), none, none, nil),
			attempt(2, client.AttemptFailed, none, none, at(20), transient),
			attempt(3, client.AttemptScheduled, at(30), none, none, nil),
		},
	}}
	for _, tt := range pendingTests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, appendPending(nil, call, tt.p))
		})
	}
}
