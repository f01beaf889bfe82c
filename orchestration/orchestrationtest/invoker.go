package orchestrationtest

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/activityctx"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// invoker runs the harness's activities (real or mocked) in the engine's
// attempt goroutine, so that only the activity's own code waits on its
// context: the virtual clock then knows that an attempt blocked on it
// waits for its deadline or its cancellation.
type invoker struct {
	codec  codec.Codec
	limits codec.Limits
	defs   map[string]activity.Definition
}

func newInvoker(c codec.Codec, lim codec.Limits, defs []activity.Definition) *invoker {
	inv := &invoker{codec: c, limits: lim, defs: map[string]activity.Definition{}}
	for _, d := range defs {
		inv.defs[d.Name()] = d
	}
	return inv
}

var _ faas.Local = (*invoker)(nil)

// Local implements faas.Local: heartbeats reach the engine.
func (*invoker) Local() bool { return true }

// Invoke implements faas.Invoker, with faas.InProcess's errors.
func (inv *invoker) Invoke(ctx context.Context, req faas.Request) ([]byte, error) {
	def, ok := inv.defs[req.Activity]
	if !ok {
		return nil, &faas.Error{Kind: faas.KindNotFound, Type: core.FailureActivityNotFound, NonRetryable: true, Function: req.Activity,
			Message: fmt.Sprintf("no activity %q is registered with the in-process invoker", req.Activity)}
	}
	actx := activityctx.WithInfo(ctx, activityctx.Info{ActivityName: req.Activity, InstanceID: req.InstanceID, RunID: req.RunID, TaskID: req.TaskID,
		Attempt: req.Attempt, IdempotencyKey: req.IdempotencyKey})
	out, err := def.Execute(actx, inv.codec, inv.limits, req.Input)
	if err == nil {
		return out, nil
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil, fmt.Errorf("orchestrationtest: activity %q attempt %d: %w", req.Activity, req.Attempt, ctx.Err())
	}
	return nil, err
}
