package temporal

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/cloudbutton/cloudbutton/internal/core"
)

// Large fan-outs. Temporal refuses more than 2,000 pending activities per
// workflow, and very long histories slow every workflow task. So once an
// orchestration has MaxPendingActivities activities in flight, further
// activities are collected into batches of BatchSize and each batch runs
// as a child workflow (BatchWorkflowName) that schedules them and returns
// their outcomes. The orchestrator sees ordinary futures either way.

// pendingBatch is the batch being filled.
type pendingBatch struct {
	items    []batchItem
	promises []*promise
}

// directInFlight counts this run's direct activities still pending. It
// re-counts only after the orchestration has waited (nothing completes
// between two waits), so a fan-out costs O(N) in all.
func (st *wfState) directInFlight() int {
	if len(st.direct) < st.maxPending || st.sweptAt == st.waits {
		return len(st.direct)
	}
	st.sweptAt = st.waits
	kept := st.direct[:0]
	for _, f := range st.direct {
		if !f.f.IsReady() {
			kept = append(kept, f)
		}
	}
	clear(st.direct[len(kept):])
	st.direct = kept
	return len(st.direct)
}

// maxBatchBytes bounds the input bytes of one batch, well under
// Temporal's 2 MB payload limit.
const maxBatchBytes = 1 << 20

func (st *wfState) addToBatch(c *tctx, it batchItem) core.Future {
	if st.batch != nil && st.batchByte+len(it.Input) > maxBatchBytes {
		st.flushBatch(c)
	}
	if st.batch == nil {
		st.batch = &pendingBatch{}
		st.batchByte = 0
	}
	p := &promise{}
	st.batch.items = append(st.batch.items, it)
	st.batch.promises = append(st.batch.promises, p)
	st.batchByte += len(it.Input)
	if len(st.batch.items) >= st.batchSize {
		st.flushBatch(c)
	}
	return p
}

// flushBatch starts the batch being filled as a child workflow.
func (st *wfState) flushBatch(c *tctx) {
	b := st.batch
	if b == nil {
		return
	}
	st.batch = nil
	id := fmt.Sprintf("%s:batch:%d", st.info.InstanceID, b.items[0].Seq)
	cctx := workflow.WithChildOptions(c.wctx(), workflow.ChildWorkflowOptions{
		WorkflowID:          id,
		TaskQueue:           st.rt.taskQueue,
		WaitForCancellation: true,
	})
	f := workflow.ExecuteChildWorkflow(cctx, BatchWorkflowName, batchInput{InstanceID: st.info.InstanceID, Items: b.items})
	disc, _ := workflow.NewDisconnectedContext(st.root)
	workflow.Go(disc, func(cc workflow.Context) {
		var res []batchResult
		err := f.Get(cc, &res)
		for i, p := range b.promises {
			switch {
			case err != nil:
				p.Resolve(nil, failureFromError(err))
			case i >= len(res):
				p.Resolve(nil, &core.Failure{Type: core.FailureError, NonRetryable: true,
					Message: fmt.Sprintf("batch workflow %q returned %d results for %d activities", id, len(res), len(b.promises))})
			default:
				st.addUsage(res[i].Usage)
				p.Resolve(res[i].Output, res[i].Failure)
			}
		}
	})
}
