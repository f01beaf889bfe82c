package temporal

import (
	"context"
	"crypto/sha1"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/billing"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
)

// wfState is the state of one workflow run, shared by its coroutines. The
// SDK runs one coroutine at a time, so it needs no locks.
type wfState struct {
	rt           *runtime
	root         workflow.Context // the workflow's context: canceled by terminate
	info         core.Info
	runID        string
	seq          int64
	uuids        int64
	customStatus []byte
	fatal        *core.Failure
	events       map[string]*eventQueue
	carried      map[string][][]byte
	logger       *slog.Logger

	// Large fan-outs: direct activities in flight, and the batch being
	// filled once they reach the bound.
	direct    []*tfuture
	acts      []core.Future // every activity of this run, for progress
	waits     int64
	sweptAt   int64
	batch     *pendingBatch
	batchByte int

	// legacy is set for runs that started before the engine recorded its
	// sequencing rules (no rulesChange marker in history): they keep the
	// old step numbering and read the batching bounds from the options.
	legacy bool
	// maxPending and batchSize are the batching bounds of this run,
	// recorded at its start.
	maxPending int
	batchSize  int
	// usage is the billed compute of the activity outcomes read so far,
	// earlier runs' included (see usage.go).
	usage billing.Usage
	// suspended is set by Suspend, cleared by Resume (see suspend.go).
	suspended bool
}

func newWFState(rt *runtime, wctx workflow.Context, carry *runCarry) *wfState {
	wi := workflow.GetInfo(wctx)
	st := &wfState{
		rt:     rt,
		root:   wctx,
		runID:  wi.WorkflowExecution.RunID,
		events: map[string]*eventQueue{},
		info: core.Info{
			InstanceID: wi.WorkflowExecution.ID,
			Name:       wi.WorkflowType.Name,
			RunID:      wi.WorkflowExecution.RunID,
		},
	}
	if wi.ParentWorkflowExecution != nil {
		st.info.ParentInstanceID = wi.ParentWorkflowExecution.ID
	}
	if carry != nil {
		st.info.Generation = carry.Generation
		st.carried = carry.Events
		st.usage = carry.Usage
	}
	st.maxPending, st.batchSize = rt.maxPending, rt.batchSize
	st.logger = slog.New(&replayHandler{ctx: wctx, h: rt.log.Handler()}).With(
		"instance", st.info.InstanceID, "orchestration", st.info.Name)
	return st
}

func (st *wfState) canceled() bool { return st.root.Err() != nil }

func (st *wfState) setFatal(f *core.Failure) {
	if st.fatal == nil {
		st.fatal = f
	}
}

func (st *wfState) nextSeq() int64 {
	st.seq++
	return st.seq
}

// newContext returns the core.Context of the coroutine whose workflow
// context is c.
func (st *wfState) newContext(c workflow.Context, cancelable bool) *tctx {
	x := &tctx{st: st, cancelable: cancelable, coro: c}
	x.disc, _ = workflow.NewDisconnectedContext(c)
	return x
}

// tctx implements core.Context over a workflow.Context.
type tctx struct {
	core.Sealed
	st         *wfState
	cancelable bool
	coro       workflow.Context // the coroutine's own context
	disc       workflow.Context // the same, without cancellation
}

var _ core.Context = (*tctx)(nil)

// wctx is the context new commands are issued on: canceled by terminate
// unless this context came from WithoutCancel.
func (c *tctx) wctx() workflow.Context {
	if c.cancelable {
		return c.coro
	}
	return c.disc
}

func (c *tctx) Info() core.Info          { return c.st.info }
func (c *tctx) Codec() codec.Codec       { return c.st.rt.codec }
func (c *tctx) Limits() codec.Limits     { return c.st.rt.limits }
func (c *tctx) Now() time.Time           { return workflow.Now(c.coro) }
func (c *tctx) IsReplaying() bool        { return workflow.IsReplaying(c.coro) }
func (c *tctx) Logger() *slog.Logger     { return c.st.logger }
func (c *tctx) Canceled() bool           { return c.st.canceled() }
func (c *tctx) Cancelable() bool         { return c.cancelable }
func (c *tctx) SetCustomStatus(b []byte) { c.st.customStatus = b }

func (c *tctx) WithoutCancel() core.Context {
	return &tctx{st: c.st, cancelable: false, coro: c.coro, disc: c.disc}
}

// activityOptions maps core options to Temporal's.
func (rt *runtime) activityOptions(o core.ActivityOptions, activityID string) workflow.ActivityOptions {
	ao := workflow.ActivityOptions{
		ActivityID:          activityID,
		TaskQueue:           rt.taskQueue,
		StartToCloseTimeout: o.StartToClose,
		HeartbeatTimeout:    o.HeartbeatTimeout,
		RetryPolicy:         retryPolicy(o.Retry),
	}
	if ao.StartToCloseTimeout <= 0 {
		ao.StartToCloseTimeout = rt.defaultStartToClose()
	}
	return ao
}

func (rt *runtime) defaultStartToClose() time.Duration {
	if rt.startToClose > 0 {
		return rt.startToClose
	}
	return 10 * time.Minute
}

func retryPolicy(p *core.RetryPolicy) *sdktemporal.RetryPolicy {
	if p == nil || p.MaxAttempts <= 1 {
		return &sdktemporal.RetryPolicy{MaximumAttempts: 1}
	}
	initial, coef, maxI := p.Backoff()
	return &sdktemporal.RetryPolicy{
		InitialInterval:        initial,
		BackoffCoefficient:     coef,
		MaximumInterval:        maxI,
		MaximumAttempts:        int32(p.MaxAttempts),
		NonRetryableErrorTypes: append(neverRetried(), p.NonRetryableErrorTypes...),
	}
}

// neverRetried is core.NeverRetried but for ActivityNotFound: on Temporal
// every worker of the task queue polls for every activity, so a worker
// that lacks one fails the attempt retryably and the retry policy decides
// (a worker that hosts it may take the next attempt).
func neverRetried() []string {
	out := make([]string, 0, len(core.NeverRetried))
	for _, t := range core.NeverRetried {
		if t != core.FailureActivityNotFound {
			out = append(out, t)
		}
	}
	return out
}

func directActivityID(seq int64) string { return strconv.FormatInt(seq, 10) }

// batchActivityID names an activity run by a batch workflow so the
// activity side knows its orchestration and sequence number.
func batchActivityID(instanceID string, seq int64) string {
	return strconv.FormatInt(seq, 10) + "@" + instanceID
}

// parseActivityID returns the orchestration instance and sequence number
// of an activity; workflowID is the workflow that scheduled it.
func parseActivityID(activityID, workflowID string) (string, int64) {
	id, inst, batched := strings.Cut(activityID, "@")
	seq, _ := strconv.ParseInt(id, 10, 64)
	if batched {
		return inst, seq
	}
	return workflowID, seq
}

func (c *tctx) ScheduleActivity(name string, input []byte, opts core.ActivityOptions) core.Future {
	st := c.st
	seq := st.nextSeq()
	if st.directInFlight() >= st.maxPending {
		f := st.addToBatch(c, batchItem{Name: name, Input: input, Opts: opts, Seq: seq})
		st.acts = append(st.acts, f)
		return f
	}
	ao := st.rt.activityOptions(opts, directActivityID(seq))
	f := &tfuture{st: st, f: workflow.ExecuteActivity(workflow.WithActivityOptions(c.wctx(), ao), name, input),
		act: st.rt.activityCall(name, opts)}
	st.direct = append(st.direct, f)
	st.acts = append(st.acts, f)
	return f
}

func (c *tctx) NewTimer(d time.Duration) core.Future {
	c.st.nextSeq()
	return &tfuture{st: c.st, f: workflow.NewTimer(c.wctx(), d)}
}

func (c *tctx) CallSubOrchestration(name string, input []byte, opts core.SubOptions) core.Future {
	st := c.st
	seq := st.nextSeq()
	// A name this worker does not host is started all the same: a worker
	// that hosts it runs it (runs from before the rules kept the old
	// behaviour, failing it here, so that they replay).
	if st.legacy && st.rt.hasOrch != nil && !st.rt.hasOrch(name) {
		p := &promise{}
		p.Resolve(nil, &core.Failure{Type: core.FailureOrchestratorNotFound, NonRetryable: true,
			Message: fmt.Sprintf("no orchestrator registered under the name %q on this worker", name)})
		return p
	}
	id := opts.InstanceID
	if id == "" {
		id = core.ChildInstanceID(st.info.InstanceID, seq)
	}
	cctx := workflow.WithChildOptions(c.wctx(), workflow.ChildWorkflowOptions{
		WorkflowID:          id,
		TaskQueue:           st.rt.taskQueue,
		ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		WaitForCancellation: true,
	})
	return &tfuture{st: st, f: workflow.ExecuteChildWorkflow(cctx, name, input)}
}

type sideEffectResult struct {
	Data    []byte        `json:"data,omitempty"`
	Failure *core.Failure `json:"failure,omitempty"`
}

func (c *tctx) SideEffect(fn func() ([]byte, error)) ([]byte, *core.Failure) {
	c.st.nextSeq()
	v := workflow.SideEffect(c.disc, func(workflow.Context) any {
		data, err := fn()
		if err != nil {
			return sideEffectResult{Failure: failerr.From(err)}
		}
		return sideEffectResult{Data: data}
	})
	var r sideEffectResult
	if err := v.Get(&r); err != nil {
		return nil, &core.Failure{Type: core.FailureDecode, Message: "side effect value: " + err.Error(), NonRetryable: true}
	}
	return r.Data, r.Failure
}

// GetVersion maps our versions (DefaultVersion 0, then 1, 2, ...) onto
// Temporal's (DefaultVersion -1, then 0, 1, ...), one below.
func (c *tctx) GetVersion(changeID string, minSupported, maxSupported int) int {
	var v workflow.Version
	func() {
		defer func() {
			if r := recover(); r != nil {
				panic(&core.NondeterminismError{
					InstanceID: c.st.info.InstanceID, Step: c.st.seq,
					Recorded: fmt.Sprintf("a version of change %q outside the supported range", changeID),
					Code:     fmt.Sprintf("GetVersion(%q, %d, %d)", changeID, minSupported, maxSupported),
					Detail:   fmt.Sprint(r),
				})
			}
		}()
		v = workflow.GetVersion(c.disc, changeID, workflow.Version(minSupported-1), workflow.Version(maxSupported-1))
	}()
	return int(v) + 1
}

// NewUUID derives a UUID from the run id and a counter: random-looking,
// unique, and the same on every replay, with no history event.
func (c *tctx) NewUUID() string {
	c.st.uuids++
	return uuid.NewHash(sha1.New(), uuid.NameSpaceURL, []byte(c.st.runID+"/"+strconv.FormatInt(c.st.uuids, 10)), 5).String()
}

func (c *tctx) Go(fn func(core.Context)) {
	st := c.st
	workflow.Go(c.coro, func(cc workflow.Context) {
		defer func() {
			if r := recover(); r != nil {
				st.setFatal(panicFailure(r, debugStack()))
			}
		}()
		fn(st.newContext(cc, c.cancelable))
	})
}

func (c *tctx) NewPromise() core.Promise { return &promise{} }

func (c *tctx) Wait(ws ...core.Waitable) (int, error) {
	st := c.st
	st.waits++
	st.flushBatch(c)
	ready := func() int {
		for i, w := range ws {
			if w.Ready() {
				return i
			}
		}
		return -1
	}
	if !st.halted() {
		if i := ready(); i >= 0 {
			return i, nil
		}
	}
	if c.cancelable && st.canceled() {
		return -1, core.ErrCanceled
	}
	idx := -1
	_ = workflow.Await(c.disc, func() bool {
		if !st.halted() {
			idx = ready()
		}
		return idx >= 0 || (c.cancelable && st.canceled()) || st.fatal != nil
	})
	if idx >= 0 {
		return idx, nil
	}
	if st.fatal != nil {
		// The orchestration is ending; this coroutine is abandoned.
		_ = workflow.Await(c.disc, func() bool { return false })
	}
	return -1, core.ErrCanceled
}

// tfuture adapts a workflow.Future whose value is codec bytes.
type tfuture struct {
	st   *wfState
	f    workflow.Future
	act  *activityCall // set for an activity: names its timeouts
	done bool
	data []byte
	fail *core.Failure
}

func (t *tfuture) Ready() bool {
	if t.done {
		return true
	}
	if !t.f.IsReady() {
		return false
	}
	// Get on a ready future does not block.
	t.done = true
	if t.act != nil {
		t.settleActivity()
		return true
	}
	var data []byte
	if err := t.f.Get(t.st.root, &data); err != nil {
		t.fail = t.act.failure(err)
	} else {
		t.data = data
	}
	return true
}

func (t *tfuture) Result() ([]byte, *core.Failure) {
	t.Ready()
	return t.data, t.fail
}

// promise is a future settled by orchestrator-side code.
type promise struct {
	done bool
	data []byte
	fail *core.Failure
}

func (p *promise) Ready() bool                     { return p.done }
func (p *promise) Result() ([]byte, *core.Failure) { return p.data, p.fail }
func (p *promise) Resolve(data []byte, f *core.Failure) {
	if p.done {
		return
	}
	p.done, p.data, p.fail = true, data, f
}

// replayHandler is a slog.Handler that drops records while the workflow
// replays, so orchestrator logs appear once.
type replayHandler struct {
	ctx workflow.Context
	h   slog.Handler
}

func (r *replayHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return !workflow.IsReplaying(r.ctx) && r.h.Enabled(ctx, l)
}

func (r *replayHandler) Handle(ctx context.Context, rec slog.Record) error {
	if workflow.IsReplaying(r.ctx) {
		return nil
	}
	return r.h.Handle(ctx, rec)
}

func (r *replayHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &replayHandler{ctx: r.ctx, h: r.h.WithAttrs(as)}
}

func (r *replayHandler) WithGroup(name string) slog.Handler {
	return &replayHandler{ctx: r.ctx, h: r.h.WithGroup(name)}
}
