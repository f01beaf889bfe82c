package temporal

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	tclient "go.temporal.io/sdk/client"
	sdktemporal "go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/billing"
)

// customStatusTimeout bounds the query that reads a custom status.
const customStatusTimeout = 5 * time.Second

// StartRaw implements client.Client: it starts a workflow of type name on
// the engine's task queue.
func (e *Engine) StartRaw(ctx context.Context, name string, input []byte, opts client.StartOptions) (string, error) {
	if err := e.checkOpen(); err != nil {
		return "", err
	}
	if name == "" {
		return "", fmt.Errorf("temporal: start: empty orchestrator name")
	}
	if opts.DedupKey != "" {
		// Refused rather than ignored: a start the caller deduplicates
		// must not run twice (see the package doc).
		return "", fmt.Errorf("%w: deduplicated and debounced starts (client.WithDedup, client.WithDebounce)", ErrUnsupported)
	}
	if err := e.checkName(name); err != nil {
		return "", err
	}
	if err := codec.CheckSize(e.opts.Limits, fmt.Sprintf("input of orchestration %q", name), input); err != nil {
		return "", err
	}
	id := opts.InstanceID
	if id == "" {
		id = newInstanceID()
	}
	so := tclient.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                e.opts.TaskQueue,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}
	switch opts.Reuse {
	case client.ReuseIfFinished:
	case client.RejectDuplicate:
		so.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	case client.TerminateIfRunning:
		so.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
	default:
		return "", fmt.Errorf("temporal: start %q: unknown reuse policy %d", name, opts.Reuse)
	}
	if !opts.StartAt.IsZero() {
		if d := time.Until(opts.StartAt); d > 0 {
			so.StartDelay = d
		}
	}
	run, err := e.tc.ExecuteWorkflow(ctx, so, name, input)
	if err != nil {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return "", fmt.Errorf("%w: %q", client.ErrAlreadyExists, id)
		}
		return "", fmt.Errorf("temporal: start %q as %q: %w", name, id, err)
	}
	return run.GetID(), nil
}

// Status implements client.Client. The custom status is read with the
// "custom-status" query, which needs a worker; without one it is empty.
// Usage comes from the workflow (see usage.go); SubOrchestrationUsage
// from its sub-orchestrations, found in visibility (see withSubUsage).
func (e *Engine) Status(ctx context.Context, instanceID string) (*client.Status, error) {
	st, err := e.status(ctx, instanceID, true)
	if err != nil {
		return nil, err
	}
	return e.withSubUsage(ctx, st), nil
}

func (e *Engine) status(ctx context.Context, instanceID string, withCustom bool) (*client.Status, error) {
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	resp, err := e.tc.DescribeWorkflowExecution(ctx, instanceID, "")
	if err != nil {
		return nil, e.mapNotFound(err, instanceID)
	}
	info := resp.GetWorkflowExecutionInfo()
	st := statusFromInfo(info)
	runID := info.GetExecution().GetRunId()
	if first, err := e.historyEvent(ctx, instanceID, runID, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT); err == nil && first != nil {
		if p := first.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads(); len(p) > 0 {
			st.Input = p[0].GetData()
		}
	} else if err != nil {
		return nil, fmt.Errorf("temporal: status of %q: read start event: %w", instanceID, err)
	}
	if !st.RuntimeStatus.Terminal() && resp.GetPendingWorkflowTask().GetAttempt() > 1 {
		st.Blocked = e.blockedReason(ctx, instanceID, runID)
	}
	closedByRun := false
	if st.RuntimeStatus.Terminal() {
		last, err := e.historyEvent(ctx, instanceID, runID, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
		if err != nil {
			return nil, fmt.Errorf("temporal: status of %q: read close event: %w", instanceID, err)
		}
		fillClose(st, last)
		closedByRun = closedByOrchestration(last)
	}
	var snap statusSnapshot
	if p, ok := info.GetMemo().GetFields()[statusMemo]; ok {
		if DataConverter(e.opts.Codec).FromPayload(p, &snap) == nil && snap.Usage == nil {
			snap.Usage = &billing.Usage{} // a memo of a build before usage
		}
	} else if withCustom && !st.RuntimeStatus.Terminal() {
		// A live orchestration answers the query (through a worker).
		qctx, cancel := context.WithTimeout(ctx, customStatusTimeout)
		if v, err := e.tc.QueryWorkflow(qctx, instanceID, runID, statusQuery); err == nil && v.HasValue() {
			_ = v.Get(&snap)
		}
		cancel()
	} else if closedByRun {
		// It would have recorded a usage that is not zero in the memo.
		snap.Usage = &billing.Usage{}
	}
	st.CustomStatus = snap.CustomStatus
	st.ActivitiesDone, st.ActivitiesTotal = snap.Done, snap.Total
	if snap.Usage != nil {
		st.Usage = snap.Usage.Client()
	}
	return st, nil
}

// closedByOrchestration reports whether the close event ev was written by
// the orchestration's workflow code (which then records its usage in the
// memo), not by Temporal: a terminate, a timeout, or the SDK failing the
// workflow for a panic or nondeterminism outside the orchestration.
func closedByOrchestration(ev *historypb.HistoryEvent) bool {
	switch ev.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
		return true
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
		return ev.GetWorkflowExecutionFailedEventAttributes().GetFailure().GetMessage() != panicPolicyMessage
	}
	return false
}

// blockedReason says why a run's workflow task keeps failing, from the
// latest WorkflowTaskFailed in its history (Temporal records the first
// failure of a series; the retries time out).
func (e *Engine) blockedReason(ctx context.Context, id, runID string) string {
	resp, err := e.tc.WorkflowService().GetWorkflowExecutionHistoryReverse(ctx, &workflowservice.GetWorkflowExecutionHistoryReverseRequest{
		Namespace: e.opts.Namespace, Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: runID}, MaximumPageSize: 100,
	})
	if err != nil {
		return ""
	}
	for _, ev := range resp.GetHistory().GetEvents() {
		if ev.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED {
			continue
		}
		msg := ev.GetWorkflowTaskFailedEventAttributes().GetFailure().GetMessage()
		if rest, ok := strings.CutPrefix(msg, sdkUnknownWorkflow); ok {
			name, supported, _ := strings.Cut(rest, ". Supported types: ")
			return fmt.Sprintf("orchestrator %q is not registered on the worker that took its workflow task (registered there: %s); Temporal retries the task until a worker that hosts it runs it",
				name, supported)
		}
		return "its workflow task keeps failing: " + msg
	}
	return ""
}

// historyEvent returns the first event of the run's history under filter
// (the start event for ALL_EVENT, the close event for CLOSE_EVENT).
func (e *Engine) historyEvent(ctx context.Context, id, runID string, filter enumspb.HistoryEventFilterType) (*historypb.HistoryEvent, error) {
	resp, err := e.tc.WorkflowService().GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
		Namespace:              e.opts.Namespace,
		Execution:              &commonpb.WorkflowExecution{WorkflowId: id, RunId: runID},
		MaximumPageSize:        1,
		HistoryEventFilterType: filter,
	})
	if err != nil {
		return nil, err
	}
	if evs := resp.GetHistory().GetEvents(); len(evs) > 0 {
		return evs[0], nil
	}
	return nil, nil
}

func statusFromInfo(info *workflowpb.WorkflowExecutionInfo) *client.Status {
	st := &client.Status{
		InstanceID:    info.GetExecution().GetWorkflowId(),
		Name:          info.GetType().GetName(),
		RuntimeStatus: runtimeStatus(info.GetStatus()),
		CreatedAt:     info.GetStartTime().AsTime(),
		UpdatedAt:     info.GetStartTime().AsTime(),
	}
	if st.RuntimeStatus == client.StatusRunning && suspendedInMemo(info.GetMemo()) {
		st.RuntimeStatus = client.StatusSuspended
	}
	if info.GetParentExecution() != nil {
		st.ParentInstanceID = info.GetParentExecution().GetWorkflowId()
	}
	if ct := info.GetCloseTime(); ct != nil && ct.IsValid() && !ct.AsTime().IsZero() && ct.GetSeconds() > 0 {
		st.CompletedAt = ct.AsTime()
		st.UpdatedAt = st.CompletedAt
	}
	return st
}

func runtimeStatus(s enumspb.WorkflowExecutionStatus) client.RuntimeStatus {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return client.StatusCompleted
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return client.StatusFailed
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return client.StatusTerminated
	}
	return client.StatusRunning
}

func fillClose(st *client.Status, ev *historypb.HistoryEvent) {
	if ev == nil {
		return
	}
	switch ev.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
		if p := ev.GetWorkflowExecutionCompletedEventAttributes().GetResult().GetPayloads(); len(p) > 0 {
			st.Output = p[0].GetData()
		}
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
		if f := failureFromProto(ev.GetWorkflowExecutionFailedEventAttributes().GetFailure()); f != nil {
			st.Failure = &client.Failure{Type: f.Type, Message: f.Message, Stack: f.Stack,
				Activity: f.Activity, SubOrchestration: f.SubOrchestration}
		}
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
		st.Failure = &client.Failure{Type: "Timeout", Message: "workflow execution timed out"}
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
		st.Failure = &client.Failure{Type: "Canceled", Message: "terminated: the orchestration was canceled"}
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
		st.Failure = &client.Failure{Type: "Canceled", Message: "terminated: " + ev.GetWorkflowExecutionTerminatedEventAttributes().GetReason()}
	}
}

// Wait implements client.Client: it blocks until the instance (following
// continue-as-new) is closed.
func (e *Engine) Wait(ctx context.Context, instanceID string) (*client.Status, error) {
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	for {
		err := e.tc.GetWorkflow(ctx, instanceID, "").Get(ctx, nil)
		if err == nil || ctx.Err() != nil {
			break
		}
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("%w: %q", client.ErrNotFound, instanceID)
		}
		// A failed, canceled or terminated run: read its status below.
		var werr *sdktemporal.WorkflowExecutionError
		if errors.As(err, &werr) || !isTransient(err) {
			break
		}
		select { // the server is briefly unavailable: retry
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("temporal: wait for %q: %w", instanceID, err)
	}
	st, err := e.status(ctx, instanceID, false)
	if err != nil {
		return nil, err
	}
	if !st.RuntimeStatus.Terminal() {
		// The run we waited on continued as new just now; wait again.
		return e.Wait(ctx, instanceID)
	}
	return e.withSubUsage(ctx, st), nil
}

func isTransient(err error) bool {
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	return errors.As(err, &unavailable) || errors.As(err, &deadline)
}

// List implements client.Client over Temporal visibility. Batch workflows
// of large fan-outs are left out.
func (e *Engine) List(ctx context.Context, f client.Filter) ([]*client.Status, error) {
	q, token, none, err := e.listQuery(f)
	if err != nil || none {
		return nil, err
	}
	var out []*client.Status
	for {
		resp, err := e.listWorkflows(ctx, q, token, 0)
		if err != nil {
			return nil, err
		}
		for _, info := range resp.GetExecutions() {
			if st := statusFromInfo(info); listed(f.Statuses, st.RuntimeStatus) {
				out = append(out, st)
			}
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 || (f.Limit > 0 && len(out) >= f.Limit) {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// listed reports whether a status is one of those a filter asks for:
// visibility queries cannot tell a suspended run (a memo) from a running
// one.
func listed(want []client.RuntimeStatus, s client.RuntimeStatus) bool {
	if len(want) == 0 || slices.Contains(want, s) {
		return true
	}
	return s == client.StatusRunning && slices.Contains(want, client.StatusPending)
}

// ListPage implements client.Client with Temporal's visibility paging: a
// page is one ListWorkflowExecutions call of PageSize f.Limit, in
// Temporal's order (running first, then by close time, newest first), and
// the page token is Temporal's NextPageToken (base64url, prefixed "t1.").
func (e *Engine) ListPage(ctx context.Context, f client.Filter) (*client.Page, error) {
	if f.Limit <= 0 {
		f.Limit = client.DefaultPageSize
	}
	q, token, none, err := e.listQuery(f)
	if err != nil || none {
		return &client.Page{}, err
	}
	resp, err := e.listWorkflows(ctx, q, token, f.Limit)
	if err != nil {
		return nil, err
	}
	page := &client.Page{}
	for _, info := range resp.GetExecutions() {
		if st := statusFromInfo(info); listed(f.Statuses, st.RuntimeStatus) {
			page.Instances = append(page.Instances, st)
		}
	}
	if next := resp.GetNextPageToken(); len(next) > 0 {
		page.NextPageToken = encodePageToken(next)
	}
	return page, nil
}

// pageTokenPrefix marks the Temporal engine's page tokens (version 1).
const pageTokenPrefix = "t1."

// encodePageToken returns "t1." and the base64url of Temporal's token and
// its CRC-32: the server answers a token it cannot read with an internal
// error that the SDK retries until the deadline, so a truncated or
// altered token must be caught here.
func encodePageToken(next []byte) string {
	raw := binary.BigEndian.AppendUint32(slices.Clip(next), crc32.ChecksumIEEE(next))
	return pageTokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
}

func decodePageToken(tok string) ([]byte, error) {
	rest, ok := strings.CutPrefix(tok, pageTokenPrefix)
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if !ok || err != nil || len(raw) <= 4 || crc32.ChecksumIEEE(raw[:len(raw)-4]) != binary.BigEndian.Uint32(raw[len(raw)-4:]) {
		return nil, fmt.Errorf("temporal: list: %w: %.40q is not a page token of the Temporal engine (truncated or altered?)", client.ErrBadPageToken, tok)
	}
	return raw[:len(raw)-4], nil
}

// listQuery returns f as a visibility query and its decoded page token;
// none is set when no status of f exists on Temporal.
func (e *Engine) listQuery(f client.Filter) (q string, token []byte, none bool, err error) {
	if err := e.checkOpen(); err != nil {
		return "", nil, false, err
	}
	if f.PageToken != "" {
		if token, err = decodePageToken(f.PageToken); err != nil {
			return "", nil, false, err
		}
	}
	qs := []string{fmt.Sprintf("WorkflowType != '%s'", BatchWorkflowName)}
	if f.Name != "" {
		qs = append(qs, fmt.Sprintf("WorkflowType = '%s'", strings.ReplaceAll(f.Name, "'", "\\'")))
	}
	if len(f.Statuses) > 0 {
		var ors []string
		for _, s := range f.Statuses {
			for _, ts := range visibilityStatuses(s) {
				ors = append(ors, fmt.Sprintf("ExecutionStatus = '%s'", ts))
			}
		}
		if len(ors) == 0 {
			return "", nil, true, nil
		}
		qs = append(qs, "("+strings.Join(ors, " OR ")+")")
	}
	if !f.CreatedAfter.IsZero() {
		qs = append(qs, fmt.Sprintf("StartTime > '%s'", f.CreatedAfter.UTC().Format(time.RFC3339Nano)))
	}
	if !f.CreatedBefore.IsZero() {
		qs = append(qs, fmt.Sprintf("StartTime < '%s'", f.CreatedBefore.UTC().Format(time.RFC3339Nano)))
	}
	return strings.Join(qs, " AND "), token, false, nil
}

// listWorkflows is one visibility call; a token the server refuses as
// invalid is ErrBadPageToken.
func (e *Engine) listWorkflows(ctx context.Context, q string, token []byte, size int) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	resp, err := e.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: e.opts.Namespace, Query: q, NextPageToken: token, PageSize: int32(size),
	})
	var invalid *serviceerror.InvalidArgument
	switch {
	case err != nil && len(token) > 0 && errors.As(err, &invalid):
		return nil, fmt.Errorf("temporal: list: %w: %v", client.ErrBadPageToken, err)
	case err != nil:
		return nil, fmt.Errorf("temporal: list: %w", err)
	}
	return resp, nil
}

func visibilityStatuses(s client.RuntimeStatus) []string {
	switch s {
	case client.StatusRunning, client.StatusPending, client.StatusSuspended:
		return []string{"Running"}
	case client.StatusCompleted:
		return []string{"Completed"}
	case client.StatusFailed:
		return []string{"Failed", "TimedOut"}
	case client.StatusTerminated:
		return []string{"Canceled", "Terminated"}
	}
	return nil
}

// RaiseEventRaw implements client.Client with a signal named name.
func (e *Engine) RaiseEventRaw(ctx context.Context, instanceID, name string, payload []byte) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	if name == "" {
		return fmt.Errorf("temporal: raise event on %q: empty event name", instanceID)
	}
	if name == controlSignal {
		return fmt.Errorf("temporal: raise event on %q: the event name %q is reserved (Suspend and Resume use it)", instanceID, name)
	}
	if err := codec.CheckSize(e.opts.Limits, fmt.Sprintf("payload of event %q", name), payload); err != nil {
		return err
	}
	if err := e.tc.SignalWorkflow(ctx, instanceID, "", name, payload); err != nil {
		return e.mapNotRunning(ctx, err, instanceID, "raise event")
	}
	return nil
}

// Terminate implements client.Client as Temporal cancellation: waits in
// the orchestrator return orchestration.ErrCanceled so it can clean up,
// children are canceled too, and the instance ends Terminated. It returns
// once the instance and its children have acted on the request (queued
// activities dropped, running ones told), or after Options.TerminateWait
// (see terminate.go).
func (e *Engine) Terminate(ctx context.Context, instanceID, reason string) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	resp, err := e.tc.DescribeWorkflowExecution(ctx, instanceID, "")
	if err != nil {
		return e.mapNotFound(err, instanceID)
	}
	info := resp.GetWorkflowExecutionInfo()
	if runtimeStatus(info.GetStatus()).Terminal() {
		return fmt.Errorf("%w: terminate %q", client.ErrNotRunning, instanceID)
	}
	_, err = e.tc.WorkflowService().RequestCancelWorkflowExecution(ctx, &workflowservice.RequestCancelWorkflowExecutionRequest{
		Namespace:         e.opts.Namespace,
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: instanceID},
		Reason:            reason,
		Identity:          "cloudbutton-client",
	})
	if err != nil {
		return e.mapNotRunning(ctx, err, instanceID, "terminate")
	}
	e.awaitCancelProcessed(ctx, execution{id: instanceID, runID: info.GetExecution().GetRunId()})
	return nil
}

// Purge implements client.Client: it deletes a closed instance's latest
// run and its history (asynchronously, on the server).
func (e *Engine) Purge(ctx context.Context, instanceID string) error {
	st, err := e.status(ctx, instanceID, false)
	if err != nil {
		return err
	}
	if !st.RuntimeStatus.Terminal() {
		return fmt.Errorf("temporal: purge %q: %w: it is %s; terminate it first", instanceID, client.ErrNotRunning, st.RuntimeStatus)
	}
	_, err = e.tc.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
		Namespace:         e.opts.Namespace,
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: instanceID},
	})
	if err != nil {
		return e.mapNotFound(err, instanceID)
	}
	return nil
}

// ExportHistory implements client.Client: it writes the latest run's
// history in Temporal's JSON format (as `temporal workflow show --output
// json`), which ReplayHistory and Temporal's own replayer read.
func (e *Engine) ExportHistory(ctx context.Context, instanceID string, w io.Writer) error {
	h, err := e.History(ctx, instanceID)
	if err != nil {
		return err
	}
	data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		return fmt.Errorf("temporal: export history of %q: %w", instanceID, err)
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("temporal: export history of %q: %w", instanceID, err)
	}
	return nil
}

// History returns the latest run's history.
func (e *Engine) History(ctx context.Context, instanceID string) (*historypb.History, error) {
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	it := e.tc.GetWorkflowHistory(ctx, instanceID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, e.mapNotFound(err, instanceID)
		}
		h.Events = append(h.Events, ev)
	}
	return h, nil
}

func (e *Engine) mapNotFound(err error, instanceID string) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("%w: %q", client.ErrNotFound, instanceID)
	}
	return fmt.Errorf("temporal: instance %q: %w", instanceID, err)
}

// mapNotRunning tells an unknown instance from a closed one.
func (e *Engine) mapNotRunning(ctx context.Context, err error, instanceID, op string) error {
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		return fmt.Errorf("temporal: %s %q: %w", op, instanceID, err)
	}
	if _, derr := e.tc.DescribeWorkflowExecution(ctx, instanceID, ""); derr == nil {
		return fmt.Errorf("%w: %s %q", client.ErrNotRunning, op, instanceID)
	}
	return fmt.Errorf("%w: %s %q", client.ErrNotFound, op, instanceID)
}
