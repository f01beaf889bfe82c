package faas

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/activityctx"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// DefaultMaxConcurrent bounds the attempts an InProcess invoker runs at
// once when InProcessOptions.MaxConcurrent is zero.
const DefaultMaxConcurrent = 256

// InProcessOptions configures an InProcess invoker. The zero value is
// usable.
type InProcessOptions struct {
	// Codec decodes inputs and encodes results (default codec.JSON).
	Codec codec.Codec
	// Limits bounds input and result sizes (default codec.DefaultMaxPayload).
	Limits codec.Limits
	// MaxConcurrent bounds attempts running at once (default
	// DefaultMaxConcurrent). Further attempts queue until a slot frees or
	// their ctx ends.
	MaxConcurrent int
	// DefaultTimeout bounds an attempt whose ctx has no deadline (0: none).
	DefaultTimeout time.Duration
	// OnHeartbeat, when set, receives activity.Heartbeat calls of every
	// attempt. A heartbeat function already in the Invoke ctx
	// (activity.WithHeartbeat) is called as well.
	OnHeartbeat func(req Request, details any)
}

// InProcess runs activities in the calling process, each attempt in its own
// goroutine, with a concurrency limit and the ctx deadline enforced. It is
// safe for concurrent use.
type InProcess struct {
	acts map[string]activity.Definition
	opts InProcessOptions
	sem  chan struct{}
}

var _ Invoker = (*InProcess)(nil)

// NewInProcess returns an invoker over activities. It fails on a nil or
// duplicate definition.
func NewInProcess(activities []activity.Definition, opts InProcessOptions) (*InProcess, error) {
	if opts.Codec == nil {
		opts.Codec = codec.JSON
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = DefaultMaxConcurrent
	}
	if opts.DefaultTimeout < 0 {
		return nil, fmt.Errorf("faas: InProcessOptions.DefaultTimeout is negative (%v)", opts.DefaultTimeout)
	}
	acts := make(map[string]activity.Definition, len(activities))
	for i, d := range activities {
		if d == nil {
			return nil, fmt.Errorf("faas: activity %d of %d is nil", i+1, len(activities))
		}
		if _, dup := acts[d.Name()]; dup {
			return nil, fmt.Errorf("faas: activity %q registered twice", d.Name())
		}
		acts[d.Name()] = d
	}
	return &InProcess{acts: acts, opts: opts, sem: make(chan struct{}, opts.MaxConcurrent)}, nil
}

// Invoke runs one attempt of req.Activity. An attempt that outlives the
// deadline of ctx fails with KindTimeout at the deadline, even if the
// activity ignores ctx (its goroutine is left to finish on its own and
// keeps its concurrency slot until then). A ctx canceled without a
// deadline returns an error wrapping ctx.Err().
func (p *InProcess) Invoke(ctx context.Context, req Request) ([]byte, error) {
	def, ok := p.acts[req.Activity]
	if !ok {
		return nil, &Error{Kind: KindNotFound, Type: core.FailureActivityNotFound, Function: req.Activity, NonRetryable: true,
			Message: fmt.Sprintf("no activity %q is registered with the in-process invoker", req.Activity)}
	}
	if err := codec.CheckSize(p.opts.Limits, fmt.Sprintf("input of activity %q", req.Activity), req.Input); err != nil {
		return nil, &Error{Kind: KindPayloadTooLarge, Type: core.FailurePayloadTooLarge, Message: err.Error(), NonRetryable: true, Function: req.Activity}
	}
	if _, has := ctx.Deadline(); !has && p.opts.DefaultTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.opts.DefaultTimeout)
		defer cancel()
	}
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, p.ctxError(ctx, req, "waiting for a concurrency slot")
	}

	actx := activityctx.WithInfo(ctx, activityctx.Info{
		ActivityName: req.Activity, InstanceID: req.InstanceID, RunID: req.RunID, TaskID: req.TaskID,
		Attempt: req.Attempt, IdempotencyKey: req.IdempotencyKey,
	})
	if hb := p.opts.OnHeartbeat; hb != nil {
		actx = activityctx.WithHeartbeat(actx, func(details any) {
			activityctx.Heartbeat(ctx, details)
			hb(req, details)
		})
	}
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-p.sem }()
		out, err := def.Execute(actx, p.opts.Codec, p.opts.Limits, req.Input)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			if ctx.Err() != nil && errors.Is(r.err, ctx.Err()) {
				return nil, p.ctxError(ctx, req, "running")
			}
			return nil, applicationError(req.Activity, r.err)
		}
		return r.out, nil
	case <-ctx.Done():
		return nil, p.ctxError(ctx, req, "running")
	}
}

// Local implements Local: activities run in this process.
func (p *InProcess) Local() bool { return true }

func (p *InProcess) ctxError(ctx context.Context, req Request, phase string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &Error{Kind: KindTimeout, Type: core.FailureTimeout, Function: req.Activity,
			Message: fmt.Sprintf("activity %q attempt %d timed out while %s", req.Activity, req.Attempt, phase)}
	}
	return fmt.Errorf("faas: activity %q attempt %d abandoned while %s: %w", req.Activity, req.Attempt, phase, ctx.Err())
}

// applicationError maps an error returned by Execute to an *Error.
func applicationError(function string, err error) *Error {
	e := &Error{Kind: KindApplication, Type: core.FailureError, Message: err.Error(), Function: function}
	var ae *activity.Error
	if errors.As(err, &ae) { // always, from an *activity.Activity
		e.Type, e.Message, e.Stack, e.NonRetryable = ae.Type, ae.Message, ae.Stack, ae.NonRetryable
		if ae.Type == core.FailurePayloadTooLarge {
			e.Kind = KindPayloadTooLarge
		}
	}
	return e
}
