package temporal

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/timeline"
)

// ActivityAttempts implements client.Client from the latest run's history
// (ActivityTaskScheduled, Started, Completed, Failed, TimedOut and
// Canceled events) and, while it runs, its pending activities
// (DescribeWorkflowExecution), those of its batch workflows included.
//
// Temporal keeps only an activity's last attempt, and the failure of the
// one before, so compared with the embedded engine:
//   - every attempt is listed, numbered, but the attempts before the last
//     are Failed without times (they failed and were retried: whether one
//     timed out is not kept; the first has the call's ScheduledAt), and
//     only the one just before the last has its Failure;
//   - the last attempt of a retried call has no ScheduledAt once the call
//     has its outcome (Temporal records the schedule of the first attempt
//     only); while it is pending, its ScheduledAt is its due time, and the
//     attempt before it has its FinishedAt;
//   - an attempt running now is Running with its start time, read from the
//     pending activity (Temporal writes an attempt's Started event only
//     with the call's outcome).
func (e *Engine) ActivityAttempts(ctx context.Context, instanceID string) ([]client.ActivityAttempt, error) {
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	// Pending activities before the history: an activity that closes in
	// between is closed in the history read, which wins.
	resp, err := e.tc.DescribeWorkflowExecution(ctx, instanceID, "")
	if err != nil {
		return nil, e.mapNotFound(err, instanceID)
	}
	runID := resp.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	out, batches, err := e.runAttempts(ctx, instanceID, runID, resp.GetPendingActivities(), nil)
	if err != nil {
		return nil, err
	}
	for _, b := range batches {
		d, err := e.tc.DescribeWorkflowExecution(ctx, b.id, b.runID)
		if err != nil {
			return nil, fmt.Errorf("temporal: activity attempts of %q: batch %q: %w", instanceID, b.id, err)
		}
		if out, _, err = e.runAttempts(ctx, b.id, b.runID, d.GetPendingActivities(), out); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []client.ActivityAttempt{} // none, as the embedded engine says it
	}
	timeline.Sort(out)
	return out, nil
}

// batchRun names a batch workflow's run.
type batchRun struct{ id, runID string }

// activityCallEvents are the events of one activity call in a history.
type activityCallEvents struct {
	scheduled *historypb.HistoryEvent
	started   *historypb.HistoryEvent
	closed    *historypb.HistoryEvent
}

// runAttempts appends to out the attempts of the activities of one
// workflow run (an orchestration's, or a batch's), and returns the batch
// workflows it started.
func (e *Engine) runAttempts(ctx context.Context, id, runID string, pending []*workflowpb.PendingActivityInfo, out []client.ActivityAttempt) ([]client.ActivityAttempt, []batchRun, error) {
	var calls []*activityCallEvents
	byEvent := map[int64]*activityCallEvents{}
	batchIDs := map[int64]int{} // initiated event id -> index in batches
	var batches []batchRun
	it := e.tc.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, nil, e.mapNotFound(err, id)
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			c := &activityCallEvents{scheduled: ev}
			calls = append(calls, c)
			byEvent[ev.GetEventId()] = c
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if c := byEvent[ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId()]; c != nil {
				c.started = ev
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED,
			enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
			if c := byEvent[scheduledEventID(ev)]; c != nil {
				c.closed = ev
			}
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			if a := ev.GetStartChildWorkflowExecutionInitiatedEventAttributes(); a.GetWorkflowType().GetName() == BatchWorkflowName {
				batchIDs[ev.GetEventId()] = len(batches)
				batches = append(batches, batchRun{id: a.GetWorkflowId()})
			}
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
			a := ev.GetChildWorkflowExecutionStartedEventAttributes()
			if i, ok := batchIDs[a.GetInitiatedEventId()]; ok {
				batches[i].runID = a.GetWorkflowExecution().GetRunId()
			}
		}
	}
	byID := make(map[string]*workflowpb.PendingActivityInfo, len(pending))
	for _, p := range pending {
		byID[p.GetActivityId()] = p
	}
	for _, c := range calls {
		s := c.scheduled.GetActivityTaskScheduledEventAttributes()
		_, seq := parseActivityID(s.GetActivityId(), id)
		call := client.ActivityAttempt{TaskID: seq, Name: s.GetActivityType().GetName(), Attempt: 1,
			ScheduledAt: timeOf(c.scheduled.GetEventTime())}
		if n := int(s.GetRetryPolicy().GetMaximumAttempts()); n > 1 {
			call.MaxAttempts = n
		}
		if c.closed != nil {
			out = appendClosed(out, call, c)
			continue
		}
		out = appendPending(out, call, byID[s.GetActivityId()])
	}
	// Batches that were initiated but did not start have no activities.
	started := batches[:0]
	for _, b := range batches {
		if b.runID != "" {
			started = append(started, b)
		}
	}
	return out, started, nil
}

// appendClosed appends the attempts of a call that has its outcome: the
// last attempt (its Started event has its number and the failure of the
// one before) and the attempts before it, without times.
func appendClosed(out []client.ActivityAttempt, call client.ActivityAttempt, c *activityCallEvents) []client.ActivityAttempt {
	last := call
	if c.started != nil {
		a := c.started.GetActivityTaskStartedEventAttributes()
		last.Attempt = max(int(a.GetAttempt()), 1)
		last.StartedAt = timeOf(c.started.GetEventTime())
		out = appendEarlier(out, call, last.Attempt, failureFromProto(a.GetLastFailure()), time.Time{})
		if last.Attempt > 1 {
			last.ScheduledAt = time.Time{} // not recorded
		}
	}
	last.FinishedAt = timeOf(c.closed.GetEventTime())
	switch c.closed.GetEventType() {
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
		return append(out, timeline.Completed(last))
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
		return append(out, timeline.Failed(last, failureFromProto(c.closed.GetActivityTaskFailedEventAttributes().GetFailure())))
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
		f := failureFromProto(c.closed.GetActivityTaskTimedOutEventAttributes().GetFailure())
		if f == nil || f.Type != core.FailureTimeout {
			f = &core.Failure{Type: core.FailureTimeout, Message: "activity timed out"}
		}
		return append(out, timeline.Failed(last, f))
	default: // canceled
		return append(out, timeline.Failed(last, canceledFailure()))
	}
}

// appendPending appends the attempts of a call without an outcome, from
// its pending activity (nil: none, such as a call its run did not wait
// for before it closed): the current attempt, with its due time, and the
// ones before it, the last of which has its failure and finish time.
func appendPending(out []client.ActivityAttempt, call client.ActivityAttempt, p *workflowpb.PendingActivityInfo) []client.ActivityAttempt {
	cur := call
	cur.State = client.AttemptScheduled
	if p == nil {
		return append(out, cur)
	}
	cur.Attempt = max(int(p.GetAttempt()), 1)
	out = appendEarlier(out, call, cur.Attempt, failureFromProto(p.GetLastFailure()), timeOf(p.GetLastAttemptCompleteTime()))
	if cur.Attempt > 1 {
		cur.ScheduledAt = timeOf(p.GetScheduledTime())
	}
	switch p.GetState() {
	case enumspb.PENDING_ACTIVITY_STATE_STARTED, enumspb.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED,
		enumspb.PENDING_ACTIVITY_STATE_PAUSE_REQUESTED:
		cur.State, cur.StartedAt = client.AttemptRunning, timeOf(p.GetLastStartedTime())
	}
	return append(out, cur)
}

// appendEarlier appends the attempts before attempt n of a call, all
// failed and retried: the first has the call's schedule time; the last
// has lastFailure and lastFinished (zero: not known).
func appendEarlier(out []client.ActivityAttempt, call client.ActivityAttempt, n int, lastFailure *core.Failure, lastFinished time.Time) []client.ActivityAttempt {
	for a := 1; a < n; a++ {
		at := call
		at.Attempt = a
		if a > 1 {
			at.ScheduledAt = time.Time{}
		}
		var f *core.Failure
		if a == n-1 {
			f, at.FinishedAt = lastFailure, lastFinished
		}
		out = append(out, timeline.Failed(at, f))
	}
	return out
}

// scheduledEventID is the ActivityTaskScheduled event an activity's
// closing event refers to.
func scheduledEventID(ev *historypb.HistoryEvent) int64 {
	switch ev.GetEventType() {
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
		return ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
		return ev.GetActivityTaskFailedEventAttributes().GetScheduledEventId()
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
		return ev.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId()
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
		return ev.GetActivityTaskCanceledEventAttributes().GetScheduledEventId()
	}
	return 0
}

// timeOf is a protobuf timestamp's time; zero for none.
func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil || (ts.GetSeconds() == 0 && ts.GetNanos() == 0) {
		return time.Time{}
	}
	return ts.AsTime()
}
