package temporal

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudbutton/cloudbutton/client"
)

// Suspend and Resume. Temporal's own Workflow Pause needs a newer server
// than the dev server of the Temporal CLI this module tests with (1.29),
// so the workflow honours a signal instead: controlSignal with a
// controlRequest. While suspended, orchestrator code takes no step: its
// waits do not return, whatever became ready (activity results, timers,
// events and sub-orchestrations, which queue as on the embedded engine),
// until Resume; activities already scheduled keep running, as they do on
// the embedded engine. Terminate still ends a suspended instance (its
// waits return orchestration.ErrCanceled and the code can clean up). The
// workflow records the state in its memo (suspendMemo), so Status and List
// read it without a worker, once a worker has processed the signal:
// Suspend waits for that, at most Options.TerminateWait.

// controlSignal is the signal that carries a controlRequest; RaiseEvent
// refuses the name.
const controlSignal = "cloudbutton.control"

// suspendMemo is the memo field that says whether the run is suspended (a
// suspendState).
const suspendMemo = "cloudbutton.suspended"

// Operations of a controlRequest.
const (
	opSuspend = "suspend"
	opResume  = "resume"
)

type controlRequest struct {
	Op     string `json:"op"`
	Reason string `json:"reason,omitempty"`
}

type suspendState struct {
	Suspended bool   `json:"suspended"`
	Reason    string `json:"reason,omitempty"`
	// Since is when the run took the request (workflow time); zero in
	// memos of older builds.
	Since time.Time `json:"since,omitzero"`
}

// watchControl starts the coroutine that applies control signals to the
// run, in their order.
func (st *wfState) watchControl(wctx workflow.Context) {
	ch := workflow.GetSignalChannel(wctx, controlSignal)
	disc, _ := workflow.NewDisconnectedContext(wctx)
	workflow.Go(disc, func(c workflow.Context) {
		for {
			var data []byte
			ch.Receive(c, &data)
			var req controlRequest
			if err := json.Unmarshal(data, &req); err != nil {
				st.logger.Warn("ignoring a malformed control signal", "error", err)
				continue
			}
			want := req.Op == opSuspend
			if req.Op != opSuspend && req.Op != opResume {
				st.logger.Warn("ignoring a control signal with an unknown operation", "op", req.Op)
				continue
			}
			if st.suspended == want {
				continue
			}
			st.suspended = want
			if err := workflow.UpsertMemo(c, map[string]any{suspendMemo: suspendState{Suspended: want, Reason: req.Reason, Since: workflow.Now(c)}}); err != nil {
				st.logger.Warn("cannot record the suspension in the memo", "error", err)
			}
		}
	})
}

// halted reports whether orchestrator code must not take a step: the run
// is suspended and not being terminated.
func (st *wfState) halted() bool { return st.suspended && !st.canceled() }

// suspendedInMemo reads suspendMemo from a workflow's memo.
func suspendedInMemo(memo *commonpb.Memo) bool {
	p, ok := memo.GetFields()[suspendMemo]
	if !ok {
		return false
	}
	var s suspendState
	return json.Unmarshal(p.GetData(), &s) == nil && s.Suspended
}

// Suspend implements client.Client: the instance takes no step until
// Resume (see above). It returns client.ErrNotRunning for an instance that
// is closed or suspended already. It returns once a worker has processed
// the request, or after Options.TerminateWait, when no worker runs it (it
// is then suspended when one does).
func (e *Engine) Suspend(ctx context.Context, instanceID, reason string) error {
	runID, suspended, err := e.controlState(ctx, instanceID, "suspend")
	if err != nil {
		return err
	}
	if suspended {
		return fmt.Errorf("%w: suspend %q: it is suspended already", client.ErrNotRunning, instanceID)
	}
	if err := e.sendControl(ctx, instanceID, runID, controlRequest{Op: opSuspend, Reason: reason}); err != nil {
		return err
	}
	e.awaitMemoSuspended(ctx, instanceID, runID, true)
	return nil
}

// Resume implements client.Client: a suspended instance goes on with what
// became ready meanwhile. It returns client.ErrNotRunning for an instance
// that is not suspended (or not suspending: a Suspend that no worker has
// processed yet).
func (e *Engine) Resume(ctx context.Context, instanceID, reason string) error {
	runID, suspended, err := e.controlState(ctx, instanceID, "resume")
	if err != nil {
		return err
	}
	if !suspended {
		return fmt.Errorf("%w: resume %q: it is not suspended", client.ErrNotRunning, instanceID)
	}
	if err := e.sendControl(ctx, instanceID, runID, controlRequest{Op: opResume, Reason: reason}); err != nil {
		return err
	}
	e.awaitMemoSuspended(ctx, instanceID, runID, false)
	return nil
}

// controlState returns the running instance's run and whether it is
// suspended, counting a control signal that no worker has processed yet.
func (e *Engine) controlState(ctx context.Context, instanceID, op string) (runID string, suspended bool, err error) {
	if err := e.checkOpen(); err != nil {
		return "", false, err
	}
	resp, err := e.tc.DescribeWorkflowExecution(ctx, instanceID, "")
	if err != nil {
		return "", false, e.mapNotFound(err, instanceID)
	}
	info := resp.GetWorkflowExecutionInfo()
	if runtimeStatus(info.GetStatus()).Terminal() {
		return "", false, fmt.Errorf("%w: %s %q", client.ErrNotRunning, op, instanceID)
	}
	runID = info.GetExecution().GetRunId()
	pending, err := e.pendingControl(ctx, instanceID, runID)
	if err != nil {
		return "", false, fmt.Errorf("temporal: %s %q: %w", op, instanceID, err)
	}
	if pending != "" {
		return runID, pending == opSuspend, nil
	}
	return runID, suspendedInMemo(info.GetMemo()), nil
}

// pendingControl returns the operation of the latest control signal that
// the run has not processed (received after its latest workflow task
// started), or "".
func (e *Engine) pendingControl(ctx context.Context, instanceID, runID string) (string, error) {
	var token []byte
	for {
		resp, err := e.tc.WorkflowService().GetWorkflowExecutionHistoryReverse(ctx, &workflowservice.GetWorkflowExecutionHistoryReverseRequest{
			Namespace:     e.opts.Namespace,
			Execution:     &commonpb.WorkflowExecution{WorkflowId: instanceID, RunId: runID},
			NextPageToken: token,
		})
		if err != nil {
			return "", err
		}
		for _, ev := range resp.GetHistory().GetEvents() {
			if op, ok := controlOp(ev); ok {
				return op, nil
			}
			if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED {
				return "", nil
			}
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			return "", nil
		}
	}
}

// controlOp returns the operation of a control signal event.
func controlOp(ev *historypb.HistoryEvent) (string, bool) {
	a := ev.GetWorkflowExecutionSignaledEventAttributes()
	if ev.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED || a.GetSignalName() != controlSignal {
		return "", false
	}
	var req controlRequest
	if p := a.GetInput().GetPayloads(); len(p) == 0 || json.Unmarshal(p[0].GetData(), &req) != nil {
		return "", false
	}
	return req.Op, true
}

func (e *Engine) sendControl(ctx context.Context, instanceID, runID string, req controlRequest) error {
	data, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("temporal: %s %q: %w", req.Op, instanceID, err)
	}
	if err := e.tc.SignalWorkflow(ctx, instanceID, runID, controlSignal, data); err != nil {
		return e.mapNotRunning(ctx, err, instanceID, req.Op)
	}
	return nil
}

// awaitMemoSuspended waits, at most Options.TerminateWait, until the
// run's memo says want (a worker processed the request) or it closed.
func (e *Engine) awaitMemoSuspended(ctx context.Context, instanceID, runID string, want bool) {
	if e.opts.TerminateWait < 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.TerminateWait)
	defer cancel()
	for {
		resp, err := e.tc.DescribeWorkflowExecution(ctx, instanceID, runID)
		if err == nil {
			info := resp.GetWorkflowExecutionInfo()
			if runtimeStatus(info.GetStatus()).Terminal() || suspendedInMemo(info.GetMemo()) == want {
				return
			}
		}
		select {
		case <-ctx.Done():
			e.log.Debug("suspend/resume: requested but not processed yet (no worker runs the instance?)", "instance", instanceID)
			return
		case <-time.After(cancelPollEvery):
		}
	}
}
