package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	tactivity "go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	sdktemporal "go.temporal.io/sdk/temporal"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/billing"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// Usage on Temporal. An activity attempt's billed compute (what the
// invoker reports, see internal/billing) travels with its outcome, so
// that the workflow, and only it, sums it from its history:
//
//   - a result carries the usage in its payload's metadata (usageMetadata):
//     the payload's data, which the orchestrator decodes, is unchanged;
//   - a failure carries it as the fourth detail of its application error
//     (after the stack, activity and sub-orchestration of
//     applicationError);
//   - Temporal retries an activity on the server and records only its last
//     attempt, so a failed attempt also heartbeats the usage of the
//     attempts so far (the second heartbeat detail, after the activity's
//     own); the next attempt reads it back and adds its own, and its
//     outcome carries the sum. A last attempt that times out carries it in
//     its timeout's last heartbeat details.
//
// The workflow adds the usage of each activity outcome it reads
// (wfState.usage), carries the sum to the next run on continue-as-new,
// answers it in the status query while it runs, and records it in the
// memo (statusMemo) when it ends, if it is not zero: runs that report none
// add nothing to their history. Histories written before any of this
// replay as they did (no metadata, no detail: no usage).

// usageMetadata is the payload metadata key of a result's usage.
const usageMetadata = "cloudbutton-usage"

// usagePayloads encodes an activity result, with u in its metadata.
func usagePayloads(dc converter.DataConverter, out []byte, u billing.Usage) (*commonpb.Payloads, error) {
	p, err := dc.ToPayload(out)
	if err != nil {
		return nil, err
	}
	meta, err := json.Marshal(u)
	if err != nil {
		return nil, err
	}
	p.Metadata[usageMetadata] = meta
	return &commonpb.Payloads{Payloads: []*commonpb.Payload{p}}, nil
}

// payloadUsage reads the usage of a result payload (zero without one).
func payloadUsage(p *commonpb.Payload) billing.Usage {
	var u billing.Usage
	if meta, ok := p.GetMetadata()[usageMetadata]; ok {
		_ = json.Unmarshal(meta, &u)
	}
	return u
}

// usageError is applicationError with the usage of the activity's
// attempts, when any, as the error's fourth detail.
func usageError(f *core.Failure, nonRetryable bool, u billing.Usage) error {
	if u.IsZero() {
		return applicationError(f, nonRetryable)
	}
	return sdktemporal.NewApplicationErrorWithOptions(f.Message, f.Type, sdktemporal.ApplicationErrorOptions{
		NonRetryable: nonRetryable || f.NonRetryable,
		Details:      []any{f.Stack, f.Activity, f.SubOrchestration, u},
	})
}

// errorUsage reads the usage an activity's failure carries: in its
// application error's details, or in a timeout's last heartbeat.
func errorUsage(err error) billing.Usage {
	var u billing.Usage
	var app *sdktemporal.ApplicationError
	if errors.As(err, &app) && app.HasDetails() {
		var s1, s2, s3 string
		_ = app.Details(&s1, &s2, &s3, &u)
		return u
	}
	var timeout *sdktemporal.TimeoutError
	if errors.As(err, &timeout) && timeout.HasLastHeartbeatDetails() {
		var own converter.RawValue
		_ = timeout.LastHeartbeatDetails(&own, &u)
	}
	return u
}

// priorUsage is the usage of the earlier attempts of the activity task of
// ctx, from the heartbeat that the last of them recorded.
func priorUsage(ctx context.Context, attempt int32) billing.Usage {
	var u billing.Usage
	if attempt <= 1 || !tactivity.HasHeartbeatDetails(ctx) {
		return u
	}
	var own converter.RawValue
	_ = tactivity.GetHeartbeatDetails(ctx, &own, &u)
	return u
}

// settleActivity reads a ready activity future: its result's data and the
// usage its outcome carries, which the run adds up.
func (t *tfuture) settleActivity() {
	var raw converter.RawValue
	if err := t.f.Get(t.st.root, &raw); err != nil {
		t.fail = t.act.failure(err)
		t.st.addUsage(errorUsage(err))
		return
	}
	p := raw.Payload()
	if p == nil {
		return
	}
	if err := t.st.rt.dataConverter().FromPayload(p, &t.data); err != nil {
		t.fail = &core.Failure{Type: core.FailureDecode, Message: "activity result: " + err.Error(), NonRetryable: true}
		return
	}
	t.st.addUsage(payloadUsage(p))
}

func (st *wfState) addUsage(u billing.Usage) { st.usage = st.usage.Add(u) }

// settleReady reads the ready activity futures that the orchestrator has
// not looked at, so that the run's usage counts them (before it ends or
// continues as new).
func (st *wfState) settleReady() {
	for _, f := range st.acts {
		if t, ok := f.(*tfuture); ok && !t.done && t.f.IsReady() {
			t.Ready()
		}
	}
}

// usageSnapshot is the run's usage as the status shows it.
func (st *wfState) usageSnapshot() *billing.Usage {
	u := st.usage
	return &u
}

// withSubUsage sets st.SubOrchestrationUsage: the usage of the
// instance's sub-orchestrations, theirs included, read from each (its
// memo, or its status query while it runs). They are found in visibility
// (ParentWorkflowId), which may miss a child started a moment ago; a
// child whose usage cannot be told makes the sum unknown (nil).
func (e *Engine) withSubUsage(ctx context.Context, st *client.Status) *client.Status {
	if st.Usage == nil {
		return st
	}
	seen := map[string]bool{st.InstanceID: true}
	if sub, ok := e.subUsage(ctx, st.InstanceID, seen); ok {
		st.SubOrchestrationUsage = sub.Client()
	}
	return st
}

// subUsage sums the usage of the descendants of id not in seen.
func (e *Engine) subUsage(ctx context.Context, id string, seen map[string]bool) (billing.Usage, bool) {
	var sum billing.Usage
	children, err := e.childIDs(ctx, id)
	if err != nil {
		e.log.Debug("temporal: listing sub-orchestrations", "instance", id, "err", err)
		return sum, false
	}
	for _, c := range children {
		if seen[c] {
			continue
		}
		seen[c] = true
		st, err := e.status(ctx, c, true)
		if err != nil || st.Usage == nil {
			return sum, false
		}
		sub, ok := e.subUsage(ctx, c, seen)
		if !ok {
			return sum, false
		}
		sum = sum.Add(usageOf(st.Usage)).Add(sub)
	}
	return sum, true
}

// childIDs lists the workflow ids of the sub-orchestrations of id (of any
// of its runs), batch workflows left out.
func (e *Engine) childIDs(ctx context.Context, id string) ([]string, error) {
	q := fmt.Sprintf("ParentWorkflowId = '%s' AND WorkflowType != '%s'", strings.ReplaceAll(id, "'", "\\'"), BatchWorkflowName)
	var ids []string
	seen := map[string]bool{}
	var token []byte
	for {
		resp, err := e.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: e.opts.Namespace, Query: q, NextPageToken: token,
		})
		if err != nil {
			return nil, err
		}
		for _, info := range resp.GetExecutions() {
			if c := info.GetExecution().GetWorkflowId(); !seen[c] { // one per id: its runs sum their own
				seen[c] = true
				ids = append(ids, c)
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return ids, nil
		}
	}
}

// usageOf is the billing form of a usage a status shows.
func usageOf(u *client.Usage) billing.Usage {
	ms := u.BilledDuration.Milliseconds()
	return billing.Usage{Invocations: u.Invocations, BilledMs: ms, MBMs: int64(math.Round(u.GBSeconds * 1024 * 1000))}
}
