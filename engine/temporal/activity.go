package temporal

import (
	"context"
	"errors"
	"fmt"
	"time"

	tactivity "go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// activityRunner is the worker's one dynamic Temporal activity: every
// activity task, whatever its name, becomes a faas.Request dispatched
// through the invoker.
type activityRunner struct {
	invoker faas.Invoker
	// local is set when the invoker runs the worker's own activities
	// in-process: they heartbeat themselves (activity.Heartbeat).
	local bool
	// beat is the interval of automatic heartbeats for remote invocations.
	beat time.Duration
}

// run is registered with RegisterDynamicActivity.
func (a *activityRunner) run(ctx context.Context, args converter.EncodedValues) ([]byte, error) {
	info := tactivity.GetInfo(ctx)
	var input []byte
	if args.HasValues() {
		if err := args.Get(&input); err != nil {
			return nil, applicationError(&core.Failure{Type: core.FailureDecode,
				Message: fmt.Sprintf("input of activity %q is not a payload: %v", info.ActivityType.Name, err)}, true)
		}
	}
	instance, seq := parseActivityID(info.ActivityID, info.WorkflowExecution.ID)
	req := faas.Request{
		Activity:       info.ActivityType.Name,
		Input:          input,
		InstanceID:     instance,
		TaskID:         seq,
		Attempt:        int(info.Attempt),
		IdempotencyKey: activity.IdempotencyKey(instance, seq, int(info.Attempt)),
	}
	if a.local {
		// In-process activities heartbeat themselves.
		ctx = activity.WithHeartbeat(ctx, func(details any) {
			if details == nil {
				tactivity.RecordHeartbeat(ctx)
				return
			}
			tactivity.RecordHeartbeat(ctx, details)
		})
	} else {
		stop := a.autoHeartbeat(ctx, info.HeartbeatTimeout)
		defer stop()
	}
	out, err := a.invoker.Invoke(ctx, req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		f := core.FailureFrom(err)
		if f.Type == core.FailureActivityNotFound {
			// Another worker of the task queue may host it: the retry
			// policy decides (see neverRetried).
			cp := *f
			cp.NonRetryable = false
			cp.Message = f.Message + " on this worker"
			f = &cp
		}
		return nil, applicationError(f, false)
	}
	return out, nil
}

// autoHeartbeat heartbeats while a remote invocation runs, so Temporal
// keeps the attempt alive and can deliver cancellation.
func (a *activityRunner) autoHeartbeat(ctx context.Context, timeout time.Duration) func() {
	every := a.beat
	if timeout > 0 && timeout/2 < every {
		every = timeout / 2
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				tactivity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done); <-stopped }
}
