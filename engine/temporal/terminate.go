package temporal

import (
	"context"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// Terminate is Temporal cancellation. The request itself only records
// WorkflowExecutionCancelRequested; the workflow acts on it in its next
// workflow task, which requests the cancellation of its activities (the
// server drops those not started yet and tells the running ones in the
// response to their next heartbeat) and of its children (batches and
// sub-orchestrations), which do the same in theirs. Until then, queued
// attempts keep starting. So Terminate waits, at most
// Options.TerminateWait, until the instance and every child it cancelled
// have processed the request.

// cancelPollEvery is how often Terminate re-reads a history while it
// waits.
const cancelPollEvery = 25 * time.Millisecond

type execution struct{ id, runID string }

// awaitCancelProcessed waits until ex and, recursively, the children it
// cancelled have processed the cancellation. It gives up quietly when
// ctx or the TerminateWait bound ends: the cancellation stays requested
// and is processed once a worker runs the workflow.
func (e *Engine) awaitCancelProcessed(ctx context.Context, ex execution) {
	if e.opts.TerminateWait < 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.TerminateWait)
	defer cancel()
	pending := []execution{ex}
	for len(pending) > 0 {
		cur := pending[0]
		pending = pending[1:]
		for first := true; ; first = false {
			done, children, err := e.cancelProcessed(ctx, cur, first)
			if err == nil && done {
				pending = append(pending, children...)
				break
			}
			select {
			case <-ctx.Done():
				e.log.Debug("terminate: the cancellation is requested but not processed yet",
					"instance", ex.id, "waiting for", cur.id, "error", err)
				return
			case <-time.After(cancelPollEvery):
			}
		}
	}
}

// cancelProcessed reads ex's history from the end back to its latest
// WorkflowExecutionCancelRequested: the cancellation is processed once a
// workflow task completed after it (or the run closed). children are the
// executions the workflow requested to cancel meanwhile. With
// checkRan, a workflow that never completed a workflow task before the
// request (no worker hosts it) counts as done: it started nothing.
func (e *Engine) cancelProcessed(ctx context.Context, ex execution, checkRan bool) (done bool, children []execution, err error) {
	runID := ex.runID
	failing := false // its first workflow task keeps failing
	if runID == "" || checkRan {
		resp, err := e.tc.DescribeWorkflowExecution(ctx, ex.id, runID)
		if err != nil {
			return false, nil, fmt.Errorf("describe %q: %w", ex.id, err)
		}
		info := resp.GetWorkflowExecutionInfo()
		if runtimeStatus(info.GetStatus()).Terminal() {
			return true, nil, nil
		}
		runID = info.GetExecution().GetRunId()
		failing = resp.GetPendingWorkflowTask().GetAttempt() > 1
	}
	var token []byte
	taskDone, closed, requested := false, false, false
	for {
		resp, err := e.tc.WorkflowService().GetWorkflowExecutionHistoryReverse(ctx, &workflowservice.GetWorkflowExecutionHistoryReverseRequest{
			Namespace:       e.opts.Namespace,
			Execution:       &commonpb.WorkflowExecution{WorkflowId: ex.id, RunId: runID},
			MaximumPageSize: 256,
			NextPageToken:   token,
		})
		if err != nil {
			return false, nil, fmt.Errorf("history of %q: %w", ex.id, err)
		}
		for _, ev := range resp.GetHistory().GetEvents() {
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
				if requested {
					continue
				}
				if taskDone || closed || !checkRan {
					return taskDone || closed, children, nil
				}
				requested = true
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				if requested {
					return false, nil, nil // it ran: wait for it
				}
				taskDone = true
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
				enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
				enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
				enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
				enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
				enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
				closed = true
			case enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
				we := ev.GetRequestCancelExternalWorkflowExecutionInitiatedEventAttributes().GetWorkflowExecution()
				children = append(children, execution{id: we.GetWorkflowId(), runID: we.GetRunId()})
			}
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			if requested || (checkRan && failing && !taskDone) {
				// It never completed a workflow task (no worker hosts
				// it): it started nothing.
				return true, nil, nil
			}
			// No cancellation recorded (yet: a child's request may be on
			// its way), unless the run closed without one.
			return closed, children, nil
		}
	}
}
