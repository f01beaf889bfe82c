package temporal

import (
	"context"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/cloudbutton/cloudbutton/client"
)

// Rewind implements client.Client with Temporal's ResetWorkflowExecution:
// a new run of the workflow whose history is the failed run's up to the
// last workflow task completed before the run's first failure (an
// activity or child workflow that failed, timed out or was cancelled, a
// cancellation request — Terminate's — or the workflow's own failure).
// That workflow task runs again, on a worker with the code registered
// now (a fixed bug); signals (raised events) that came after the point
// are delivered again.
//
// What differs from the embedded engine: Temporal keeps no result that
// was recorded after the reset point. Activities scheduled before it that
// had no result there run again, the failed one and any that succeeded
// after the first failure alike (in a fan-out whose first item failed
// before the others finished, those others run again too), as does
// everything scheduled after it; the embedded engine re-runs only the
// steps that failed or had no result. A failed child workflow is not
// rewound in place but started again from its beginning: the reset point
// is then the last workflow task completed before the child was started.
// Attempts start again at 1 under the new run id, so their idempotency
// keys are new, as on the embedded engine.
//
// A Completed or live instance is client.ErrNotRewindable, an unknown one
// client.ErrNotFound; nothing changes then.
func (e *Engine) Rewind(ctx context.Context, instanceID, reason string) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	if reason == "" {
		reason = "rewound by client"
	}
	resp, err := e.tc.DescribeWorkflowExecution(ctx, instanceID, "")
	if err != nil {
		return e.mapNotFound(err, instanceID)
	}
	info := resp.GetWorkflowExecutionInfo()
	st := runtimeStatus(info.GetStatus())
	if st != client.StatusFailed && st != client.StatusTerminated {
		why := ": only a Failed or Terminated instance can be rewound"
		if st == client.StatusCompleted {
			why = ": nothing failed (start it again instead)"
		}
		return fmt.Errorf("%w: %q is %s%s", client.ErrNotRewindable, instanceID, st, why)
	}
	runID := info.GetExecution().GetRunId()
	it := e.tc.GetWorkflowHistory(ctx, instanceID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return e.mapNotFound(err, instanceID)
		}
		events = append(events, ev)
	}
	point := resetPoint(events)
	if point == 0 {
		return fmt.Errorf("%w: %q: no workflow task completed before its first failure", client.ErrNotRewindable, instanceID)
	}
	_, err = e.tc.WorkflowService().ResetWorkflowExecution(ctx, &workflowservice.ResetWorkflowExecutionRequest{
		Namespace:                 e.opts.Namespace,
		WorkflowExecution:         &commonpb.WorkflowExecution{WorkflowId: instanceID, RunId: runID},
		Reason:                    reason,
		WorkflowTaskFinishEventId: point,
		RequestId:                 "rewind-" + runID + "-" + fmt.Sprint(point),
		ResetReapplyType:          enumspb.RESET_REAPPLY_TYPE_SIGNAL,
	})
	if err != nil {
		return fmt.Errorf("temporal: rewind of %q: %w", instanceID, e.mapNotFound(err, instanceID))
	}
	return nil
}

// resetPoint is the id of the last WorkflowTaskCompleted event before
// the first failure of a run's history (0 if none): the latest point
// whose replay keeps every result recorded before the failure, and not
// the failure itself. For a failed child workflow it is the last one
// before the child was initiated: a child started before the reset point
// stays as it ended (its failure would be delivered again), while one
// initiated after it is started again.
func resetPoint(events []*historypb.HistoryEvent) int64 {
	var completed []int64 // WorkflowTaskCompleted ids, in order
	before := func(id int64) int64 {
		var last int64
		for _, c := range completed {
			if c < id {
				last = c
			}
		}
		return last
	}
	for _, ev := range events {
		if initiated := childInitiated(ev); initiated > 0 {
			return before(initiated)
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			completed = append(completed, ev.GetEventId())
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED, enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
			enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
			return before(ev.GetEventId())
		}
	}
	return before(int64(len(events)) + 1)
}

// childInitiated is, for an event that says a child workflow failed (or
// was cancelled, terminated, timed out, or not started), the id of the
// event that initiated it; 0 for any other event.
func childInitiated(ev *historypb.HistoryEvent) int64 {
	switch ev.GetEventType() {
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
		return ev.GetChildWorkflowExecutionFailedEventAttributes().GetInitiatedEventId()
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
		return ev.GetChildWorkflowExecutionTimedOutEventAttributes().GetInitiatedEventId()
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
		return ev.GetChildWorkflowExecutionCanceledEventAttributes().GetInitiatedEventId()
	case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED:
		return ev.GetChildWorkflowExecutionTerminatedEventAttributes().GetInitiatedEventId()
	case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
		return ev.GetStartChildWorkflowExecutionFailedEventAttributes().GetInitiatedEventId()
	}
	return 0
}
