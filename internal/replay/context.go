package replay

import (
	"context"
	"crypto/sha1"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
)

// coreCtx is the replay engine's core.Context: one per coroutine.
type coreCtx struct {
	core.Sealed
	x          *Instance
	co         *coroutine
	cancelable bool
}

var _ core.Context = (*coreCtx)(nil)

func (c *coreCtx) Info() core.Info      { return c.x.info }
func (c *coreCtx) Codec() codec.Codec   { return c.x.opts.Codec }
func (c *coreCtx) Limits() codec.Limits { return c.x.opts.Limits }
func (c *coreCtx) Now() time.Time       { return c.x.now }
func (c *coreCtx) IsReplaying() bool    { return c.x.replaying }
func (c *coreCtx) Logger() *slog.Logger { return c.x.log }
func (c *coreCtx) Canceled() bool       { return c.x.canceled }
func (c *coreCtx) Cancelable() bool     { return c.cancelable }
func (c *coreCtx) SetCustomStatus(b []byte) {
	c.x.readOnly("set the custom status")
	c.x.customStatus, c.x.statusChanged = b, true
}

func (c *coreCtx) WithoutCancel() core.Context {
	cp := *c
	cp.cancelable = false
	return &cp
}

func (c *coreCtx) ScheduleActivity(name string, input []byte, opts core.ActivityOptions) core.Future {
	x := c.x
	seq, rec := x.action(ActivityScheduled, name)
	if rec == nil {
		o := opts
		x.issue(&Event{Type: ActivityScheduled, TaskID: seq, Name: name, Payload: input, Options: &o})
	}
	p := &promise{kind: ActivityScheduled}
	x.pend(seq, p)
	return p
}

func (c *coreCtx) NewTimer(d time.Duration) core.Future {
	x := c.x
	seq, rec := x.action(TimerCreated, "")
	if rec == nil {
		x.issue(&Event{Type: TimerCreated, TaskID: seq, FireAt: x.now.Add(d)})
	}
	p := &promise{kind: TimerCreated}
	x.pend(seq, p)
	return p
}

func (c *coreCtx) WaitEvent(name string, timeout time.Duration) core.Future {
	c.x.readOnly("wait for an event")
	q := c.x.queue(name)
	if payload, ok := q.pop(); ok {
		return &promise{ready: true, data: payload}
	}
	p := &promise{}
	q.waiters, q.since = append(q.waiters, p), append(q.since, c.x.now)
	if timeout > 0 {
		t := c.NewTimer(timeout).(*promise)
		t.onDone = func() {
			p.resolve(nil, core.EventTimeout(name, timeout))
		}
	}
	return p
}

func (c *coreCtx) CallSubOrchestration(name string, input []byte, opts core.SubOptions) core.Future {
	x := c.x
	seq, rec := x.action(SubOrchestrationScheduled, name)
	if rec == nil {
		id := opts.InstanceID
		if id == "" {
			id = core.ChildInstanceID(x.info.InstanceID, seq)
		}
		x.issue(&Event{Type: SubOrchestrationScheduled, TaskID: seq, Name: name, InstanceID: id, Payload: input})
	}
	p := &promise{kind: SubOrchestrationScheduled}
	x.pend(seq, p)
	return p
}

func (c *coreCtx) SideEffect(fn func() ([]byte, error)) ([]byte, *core.Failure) {
	x := c.x
	seq, rec := x.action(SideEffectRecorded, "")
	if rec != nil {
		return rec.Payload, rec.Failure
	}
	data, err := safeCall(fn)
	e := x.issue(&Event{Type: SideEffectRecorded, TaskID: seq, Payload: data, Failure: failerr.From(err)})
	return e.Payload, e.Failure
}

func safeCall(fn func() ([]byte, error)) (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("side effect panicked: %v", r)
		}
	}()
	return fn()
}

func (c *coreCtx) GetVersion(changeID string, minSupported, maxSupported int) int {
	x := c.x
	x.readOnly("mark a version")
	v, ok := x.versions[changeID]
	if !ok {
		if rv, rok := x.recordedVersions[changeID]; rok {
			v = rv
		} else if x.replaying {
			v = core.DefaultVersion
		} else {
			v = maxSupported
			x.record(&Event{Type: VersionMarked, Name: changeID, Version: v})
		}
		x.versions[changeID] = v
	}
	if v < minSupported || v > maxSupported {
		x.nondeterministic(x.seq, fmt.Sprintf("version %d of change %q", v, changeID),
			fmt.Sprintf("support versions %d to %d", minSupported, maxSupported), "the code no longer supports instances started at that version")
		runtime.Goexit()
	}
	return v
}

// NewUUID derives a version-5-style UUID from the instance id, its
// generation and a counter: deterministic, unique per call.
func (c *coreCtx) NewUUID() string {
	x := c.x
	x.readOnly("draw a UUID")
	x.uuids++
	h := sha1.Sum(fmt.Appendf(nil, "%s/%d/%d", x.info.InstanceID, x.info.Generation, x.uuids))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func (c *coreCtx) Go(fn func(core.Context)) {
	c.x.readOnly("start a coroutine")
	co := c.x.sched.spawn(nil)
	child := &coreCtx{x: c.x, co: co, cancelable: c.cancelable}
	co.fn = func() { fn(child) }
}

func (c *coreCtx) NewPromise() core.Promise { return &promise{} }

func (c *coreCtx) Wait(ws ...core.Waitable) (int, error) {
	c.x.readOnly("wait")
	i := c.x.sched.wait(c.co, ws, c.cancelable, func() bool { return c.x.canceled })
	if i < 0 {
		return -1, core.ErrCanceled
	}
	return i, nil
}

// replayHandler is the orchestrator's slog handler: silent while
// replaying, and tagging records with the instance.
type replayHandler struct {
	inner slog.Handler
	x     *Instance
}

func (h *replayHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return !h.x.replaying && h.inner.Enabled(ctx, l)
}

func (h *replayHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.x.replaying {
		return nil
	}
	r.AddAttrs(slog.String("instance", h.x.info.InstanceID), slog.String("orchestration", h.x.info.Name))
	return h.inner.Handle(ctx, r)
}

func (h *replayHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &replayHandler{inner: h.inner.WithAttrs(as), x: h.x}
}

func (h *replayHandler) WithGroup(name string) slog.Handler {
	return &replayHandler{inner: h.inner.WithGroup(name), x: h.x}
}
