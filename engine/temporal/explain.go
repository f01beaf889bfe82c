package temporal

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/cloudbutton/cloudbutton/client"
)

var _ client.Explainer = (*Engine)(nil)

// pollerFresh is how recently a poller must have polled to count as a
// running worker: a live worker's long poll is renewed at least every
// minute, and Temporal lists a stopped worker's poller for minutes.
const pollerFresh = 2 * time.Minute

// eventWaitSnapshot is a wait for an external event in statusSnapshot.
type eventWaitSnapshot struct {
	Name  string    `json:"name"`
	Since time.Time `json:"since"`
}

// eventWaits lists the code's unanswered waits for events, in the order
// they began (then by name).
func (st *wfState) eventWaits() []eventWaitSnapshot {
	var out []eventWaitSnapshot
	for name, q := range st.events {
		for _, w := range q.waiters {
			if !w.p.done {
				out = append(out, eventWaitSnapshot{Name: name, Since: w.since})
			}
		}
	}
	slices.SortFunc(out, func(a, b eventWaitSnapshot) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// ExplainWaits implements client.Explainer, for client.Explain, from
// what Temporal tells: WaitSuspended with the time and reason the run
// took the Suspend (its memo); WaitWorker when no worker polled the workflow's
// task queue in the last two minutes (DescribeTaskQueue: a stopped
// worker is noticed only then); WaitUnknownName when the workflow task
// keeps failing for an unknown workflow type; the pending child
// workflows (DescribeWorkflowExecution); the timers started and not
// fired or canceled (history); and the waits for events, which only the
// workflow's code knows (a query, answered by a worker: none without
// one).
func (e *Engine) ExplainWaits(ctx context.Context, id string) ([]client.Wait, error) {
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	resp, err := e.tc.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return nil, e.mapNotFound(err, id)
	}
	info := resp.GetWorkflowExecutionInfo()
	if runtimeStatus(info.GetStatus()).Terminal() {
		return nil, nil
	}
	runID := info.GetExecution().GetRunId()
	var out []client.Wait
	if p, ok := info.GetMemo().GetFields()[suspendMemo]; ok {
		var s suspendState
		if json.Unmarshal(p.GetData(), &s) == nil && s.Suspended {
			out = append(out, client.Wait{Kind: client.WaitSuspended, Since: s.Since, Reason: s.Reason})
		}
	}
	queue := info.GetTaskQueue()
	if queue == "" {
		queue = e.opts.TaskQueue
	}
	polled, err := e.polled(ctx, queue)
	if err != nil {
		return nil, fmt.Errorf("temporal: explain %q: %w", id, err)
	}
	if !polled {
		out = append(out, client.Wait{Kind: client.WaitWorker, Name: "task queue " + queue})
	}
	unknown := false
	if resp.GetPendingWorkflowTask().GetAttempt() > 1 {
		if reason := e.blockedReason(ctx, id, runID); strings.Contains(reason, "is not registered on the worker") {
			unknown = true
			out = append(out, client.Wait{Kind: client.WaitUnknownName, Name: info.GetType().GetName(), Reason: reason})
		}
	}
	code, err := e.pendingTimers(ctx, id, runID)
	if err != nil {
		return nil, err
	}
	for _, ch := range resp.GetPendingChildren() {
		if ch.GetWorkflowTypeName() == BatchWorkflowName {
			continue // a batch of the run's own activities
		}
		code = append(code, client.Wait{Kind: client.WaitSubOrchestration, Name: ch.GetWorkflowTypeName(),
			InstanceID: ch.GetWorkflowId()})
	}
	if polled && !unknown {
		qctx, cancel := context.WithTimeout(ctx, customStatusTimeout)
		var snap statusSnapshot
		if v, err := e.tc.QueryWorkflow(qctx, id, runID, statusQuery); err == nil && v.HasValue() && v.Get(&snap) == nil {
			for _, w := range snap.Events {
				code = append(code, client.Wait{Kind: client.WaitEvent, Name: w.Name, Since: w.Since})
			}
		}
		cancel()
	}
	return append(out, code...), nil
}

// polled reports whether a worker polled the task queue for workflow
// tasks within pollerFresh.
func (e *Engine) polled(ctx context.Context, queue string) (bool, error) {
	resp, err := e.tc.DescribeTaskQueue(ctx, queue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return false, err
	}
	for _, p := range resp.GetPollers() {
		if t := timeOf(p.GetLastAccessTime()); !t.IsZero() && time.Since(t) < pollerFresh {
			return true, nil
		}
	}
	return false, nil
}

// pendingTimers are the run's timers started and not fired or canceled,
// each due at its start plus its duration.
func (e *Engine) pendingTimers(ctx context.Context, id, runID string) ([]client.Wait, error) {
	started := map[string]client.Wait{}
	var order []string
	it := e.tc.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, e.mapNotFound(err, id)
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			a := ev.GetTimerStartedEventAttributes()
			at := timeOf(ev.GetEventTime())
			started[a.GetTimerId()] = client.Wait{Kind: client.WaitTimer, Since: at, Until: at.Add(a.GetStartToFireTimeout().AsDuration())}
			order = append(order, a.GetTimerId())
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			delete(started, ev.GetTimerFiredEventAttributes().GetTimerId())
		case enumspb.EVENT_TYPE_TIMER_CANCELED:
			delete(started, ev.GetTimerCanceledEventAttributes().GetTimerId())
		}
	}
	var out []client.Wait
	for _, tid := range order {
		if w, ok := started[tid]; ok {
			out = append(out, w)
			delete(started, tid)
		}
	}
	return out, nil
}
