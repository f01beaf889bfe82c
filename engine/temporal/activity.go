package temporal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	tactivity "go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/activityctx"
	"github.com/cloudbutton/cloudbutton/internal/billing"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
	"github.com/cloudbutton/cloudbutton/internal/telemetry"
)

// activityRunner is the worker's one dynamic Temporal activity: every
// activity task, whatever its name, becomes a faas.Request dispatched
// through the invoker.
type activityRunner struct {
	invoker faas.Invoker
	// local is set when the invoker runs the worker's own activities
	// in-process: they heartbeat themselves (activity.Heartbeat).
	local bool
	// beat is the interval of automatic heartbeats (Options.HeartbeatInterval).
	beat time.Duration
	// metered: the invoker may report usage (billing.Reports); dc then
	// encodes the results that carry it (see usage.go).
	metered bool
	dc      converter.DataConverter
	// tel is the worker's instrumentation (nil: off); running counts the
	// attempts in flight, its gauge of pending activities.
	tel     *telemetry.T
	running pendingCounter
}

// run is registered with RegisterDynamicActivity. Its result is the
// activity's codec bytes, or their payload with the usage of the task's
// attempts in its metadata.
func (a *activityRunner) run(ctx context.Context, args converter.EncodedValues) (any, error) {
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
		RunID:          info.WorkflowExecution.RunID,
		TaskID:         seq,
		Attempt:        int(info.Attempt),
		IdempotencyKey: activityctx.IdempotencyKey(instance, info.WorkflowExecution.RunID, seq, int(info.Attempt)),
	}
	// Temporal delivers a cancellation only in a heartbeat's response:
	// attempts that do not heartbeat themselves get automatic heartbeats.
	// In-process activities with a heartbeat timeout heartbeat
	// themselves (beating for them would defeat the timeout).
	beats := &lastBeat{}
	var meter *billing.Meter
	if a.metered {
		meter = &billing.Meter{}
		beats.usage = priorUsage(ctx, info.Attempt)
	}
	if a.local {
		ctx = activityctx.WithHeartbeat(ctx, func(details any) {
			beats.set(details)
			beats.record(ctx)
		})
	}
	if !a.local || info.HeartbeatTimeout <= 0 {
		stop := a.autoHeartbeat(ctx, info.HeartbeatTimeout, beats)
		defer stop()
	}
	ictx := ctx
	if meter != nil {
		ictx = meter.Context(ctx)
	}
	out, err := a.invoke(ictx, req)
	used := beats.usage.Add(meter.Usage()) // this attempt's and the earlier ones'
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		if !used.IsZero() {
			// For the next attempt, if the retry policy makes one: the
			// SDK sends this heartbeat before the failure.
			beats.setUsage(used)
			beats.record(ctx)
		}
		f := failerr.From(err)
		if f.Type == core.FailureActivityNotFound {
			// Another worker of the task queue may host it: the retry
			// policy decides (see neverRetried).
			cp := *f
			cp.NonRetryable = false
			cp.Message = f.Message + " on this worker"
			f = &cp
		}
		return nil, usageError(f, false, used)
	}
	if used.IsZero() {
		return out, nil
	}
	p, err := usagePayloads(a.dc, out, used)
	if err != nil {
		return nil, applicationError(&core.Failure{Type: core.FailureDecode, NonRetryable: true,
			Message: fmt.Sprintf("result of activity %q: %v", info.ActivityType.Name, err)}, true)
	}
	return p, nil
}

// lastBeat keeps the details of an attempt's last heartbeat, which the
// automatic heartbeats repeat (Temporal keeps the last details), and the
// usage of the task's attempts so far, which every heartbeat carries as
// its second detail once it is not zero (see usage.go).
type lastBeat struct {
	mu      sync.Mutex
	details any
	isSet   bool
	usage   billing.Usage
}

func (b *lastBeat) setUsage(u billing.Usage) {
	b.mu.Lock()
	b.usage = u
	b.mu.Unlock()
}

func (b *lastBeat) set(details any) {
	b.mu.Lock()
	b.details, b.isSet = details, details != nil
	b.mu.Unlock()
}

func (b *lastBeat) record(ctx context.Context) {
	b.mu.Lock()
	details, ok, u := b.details, b.isSet, b.usage
	b.mu.Unlock()
	if !u.IsZero() {
		tactivity.RecordHeartbeat(ctx, details, u)
		return
	}
	if !ok {
		tactivity.RecordHeartbeat(ctx)
		return
	}
	tactivity.RecordHeartbeat(ctx, details)
}

// autoHeartbeat heartbeats while an invocation runs, so Temporal keeps
// the attempt alive and can deliver its cancellation.
func (a *activityRunner) autoHeartbeat(ctx context.Context, timeout time.Duration, beats *lastBeat) func() {
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
				beats.record(ctx)
			}
		}
	}()
	return func() { close(done); <-stopped }
}
