package temporal

import (
	"errors"
	"log/slog"
	"runtime/debug"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/billing"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
	"github.com/cloudbutton/cloudbutton/internal/telemetry"
)

// runCarry is the optional second workflow argument: what a run hands to
// the next one on continue-as-new. A run started by a client has none.
type runCarry struct {
	Generation int                 `json:"generation"`
	Events     map[string][][]byte `json:"events,omitempty"`
	// Usage is the billed compute of the earlier runs' activities.
	Usage billing.Usage `json:"usage,omitzero"`
}

// runtime is what the workflow and activity code of one worker share.
type runtime struct {
	codec      codec.Codec
	limits     codec.Limits
	log        *slog.Logger
	taskQueue  string
	maxPending int
	batchSize  int
	hasOrch    func(name string) bool
	// startToClose bounds activity attempts that set no timeout.
	startToClose time.Duration
	// dc decodes activity results that carry usage (see usage.go).
	dc converter.DataConverter
	// tel is the worker's instrumentation (nil: off).
	tel *telemetry.T
}

func (rt *runtime) dataConverter() converter.DataConverter {
	if rt.dc == nil {
		return DataConverter(rt.codec)
	}
	return rt.dc
}

// orchestrationWorkflow returns the Temporal workflow function that runs
// def. Its input is the orchestrator's codec bytes, its result the
// output's codec bytes.
func (rt *runtime) orchestrationWorkflow(def core.OrchestratorDef) func(workflow.Context, []byte, *runCarry) ([]byte, error) {
	return func(wctx workflow.Context, input []byte, carry *runCarry) ([]byte, error) {
		st := newWFState(rt, wctx, carry)
		wctx, tr := rt.traceRun(wctx, st)
		st.recordRules(wctx)
		st.watchControl(wctx)
		if err := workflow.SetQueryHandler(wctx, CustomStatusQuery, func() ([]byte, error) {
			return st.customStatus, nil
		}); err != nil {
			return nil, err
		}
		if err := workflow.SetQueryHandler(wctx, statusQuery, func() (statusSnapshot, error) {
			return st.snapshot(), nil
		}); err != nil {
			return nil, err
		}
		var (
			out    []byte
			runErr error
			done   bool
		)
		workflow.Go(wctx, func(c workflow.Context) {
			defer func() {
				if r := recover(); r != nil {
					st.setFatal(panicFailure(r, debug.Stack()))
				}
				done = true
			}()
			out, runErr = def.Execute(st.newContext(c, true), input)
		})
		disc, _ := workflow.NewDisconnectedContext(wctx)
		_ = workflow.Await(disc, func() bool { return done || st.fatal != nil })
		st.settleReady() // their usage counts
		var can *core.ContinueAsNewError
		if !errors.As(runErr, &can) || st.fatal != nil || st.canceled() {
			st.publishFinalStatus(disc)
		}
		switch {
		case st.fatal != nil:
			tr.end(wctx, telemetry.Failed, st.fatal)
			return nil, applicationError(st.fatal, true)
		case st.canceled():
			tr.end(wctx, telemetry.Terminated, &core.Failure{Type: core.FailureCanceled, Message: "terminated: " + wctx.Err().Error()})
			return nil, wctx.Err()
		}
		if can != nil {
			next := &runCarry{Generation: st.info.Generation + 1, Usage: st.usage}
			if can.KeepEvents {
				next.Events = st.unconsumedEvents()
			}
			tr.end(wctx, telemetry.ContinuedAsNew, nil)
			return nil, workflow.NewContinueAsNewError(tr.nextRun(wctx), st.info.Name, can.Input, next)
		}
		if runErr != nil {
			f := failerr.From(runErr)
			tr.end(wctx, telemetry.Failed, f)
			return nil, applicationError(f, true)
		}
		tr.end(wctx, telemetry.Completed, nil)
		return out, nil
	}
}

// rulesChange is the change id of the version marker that every run
// records first. Version 1: the run follows the sequencing rules of
// internal/core and its batching bounds are recorded with a side effect
// next to the marker. A run without the marker (started by an older
// engine) keeps the old numbering and reads the bounds from the options,
// so that it replays as it ran.
const rulesChange = "cloudbutton.rules"

// batchBounds are a run's recorded batching bounds.
type batchBounds struct {
	MaxPending int `json:"maxPending"`
	BatchSize  int `json:"batchSize"`
}

// recordRules reads (or, on a new run, records) the run's rules version
// and batching bounds. Changing MaxPendingActivities or BatchSize under
// running orchestrations is then safe: each keeps the bounds it started
// with.
func (st *wfState) recordRules(wctx workflow.Context) {
	if workflow.GetVersion(wctx, rulesChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		st.legacy = true
		return
	}
	v := workflow.SideEffect(wctx, func(workflow.Context) any {
		return batchBounds{MaxPending: st.rt.maxPending, BatchSize: st.rt.batchSize}
	})
	var b batchBounds
	if err := v.Get(&b); err != nil || b.MaxPending <= 0 || b.BatchSize <= 0 {
		st.logger.Warn("cannot read the recorded batching bounds; using the options", "error", err)
		return
	}
	st.maxPending, st.batchSize = b.MaxPending, b.BatchSize
}

// statusQuery returns a statusSnapshot of a running orchestration.
const statusQuery = "cloudbutton.status"

// statusMemo is the memo field that keeps the last custom status (and
// progress) of a closed orchestration that set one.
const statusMemo = "cloudbutton.status"

// statusSnapshot is what Status reads from a live orchestration.
type statusSnapshot struct {
	CustomStatus []byte `json:"customStatus,omitempty"`
	Done         int    `json:"done"`
	Total        int    `json:"total"`
	// Usage is the billed compute of the activity outcomes the run read,
	// earlier runs' included; absent from snapshots of older builds.
	Usage *billing.Usage `json:"usage,omitempty"`
	// Events are the code's waits for external events no signal has
	// answered (Explain); absent from snapshots of older builds.
	Events []eventWaitSnapshot `json:"events,omitempty"`
}

func (st *wfState) snapshot() statusSnapshot {
	s := statusSnapshot{CustomStatus: st.customStatus, Total: len(st.acts), Usage: st.usageSnapshot(), Events: st.eventWaits()}
	for _, f := range st.acts {
		switch f := f.(type) {
		case *tfuture:
			if f.done || f.f.IsReady() {
				s.Done++
			}
		case *promise:
			if f.done {
				s.Done++
			}
		}
	}
	return s
}

// publishFinalStatus records the custom status, if the orchestration set
// one, and the usage, if not zero, in the memo, so Status reads them after
// the end without a worker. Orchestrations that have neither add nothing
// to their history (Status then knows the usage was zero).
func (st *wfState) publishFinalStatus(ctx workflow.Context) {
	if st.customStatus == nil && st.usage.IsZero() {
		return
	}
	if err := workflow.UpsertMemo(ctx, map[string]any{statusMemo: st.snapshot()}); err != nil {
		st.logger.Warn("cannot record the final custom status in the memo", "error", err)
	}
}

// batchItem is one activity of a large fan-out, run by a batch workflow.
type batchItem struct {
	Name  string               `json:"name"`
	Input []byte               `json:"input"`
	Opts  core.ActivityOptions `json:"opts"`
	// Seq is the activity's sequence number in the orchestration.
	Seq int64 `json:"seq"`
}

// batchInput is the input of the batch workflow.
type batchInput struct {
	// InstanceID is the orchestration the activities belong to.
	InstanceID string      `json:"instanceId"`
	Items      []batchItem `json:"items"`
}

// batchResult is one activity's outcome.
type batchResult struct {
	Output  []byte        `json:"output,omitempty"`
	Failure *core.Failure `json:"failure,omitempty"`
	// Usage is the billed compute of the activity's attempts.
	Usage billing.Usage `json:"usage,omitzero"`
}

// batchWorkflow runs a batch of activities and returns their outcomes in
// order. Failures are results, not a workflow failure.
func (rt *runtime) batchWorkflow(wctx workflow.Context, in batchInput) ([]batchResult, error) {
	wctx = batchTrace(wctx)
	fs := make([]workflow.Future, len(in.Items))
	for i, it := range in.Items {
		ao := rt.activityOptions(it.Opts, batchActivityID(in.InstanceID, it.Seq))
		fs[i] = workflow.ExecuteActivity(workflow.WithActivityOptions(wctx, ao), it.Name, it.Input)
	}
	out := make([]batchResult, len(fs))
	for i, f := range fs {
		var raw converter.RawValue
		if err := f.Get(wctx, &raw); err != nil {
			it := in.Items[i]
			out[i].Failure = rt.activityCall(it.Name, it.Opts).failure(err)
			out[i].Usage = errorUsage(err)
			continue
		}
		if p := raw.Payload(); p != nil {
			if err := rt.dataConverter().FromPayload(p, &out[i].Output); err != nil {
				out[i].Failure = &core.Failure{Type: core.FailureDecode, Message: "activity result: " + err.Error(), NonRetryable: true}
			}
			out[i].Usage = payloadUsage(p)
		}
	}
	if err := wctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
