package embedded

import "context"

// Rewind implements client.Client: it restarts a Failed or Terminated
// instance from its failed step, keeping the results of the steps that
// succeeded, in one transaction. The history is cut at the run's first
// failure (an activity or sub-orchestration failure, a termination
// request, or the step whose code failed); what the run scheduled before
// the cut and had no result for runs again, from attempt 1, under a new
// run id (so with idempotency keys of their own); results recorded after
// the cut for steps scheduled before it are delivered again. A failed or
// terminated sub-orchestration is rewound with its parent. The worker
// replays the kept history with the code registered now: a fixed bug
// takes effect, and code that no longer agrees with the history fails
// with a [CB1100] nondeterminism error, as any replay does.
//
// A Completed, Pending, Running or Suspended instance is
// client.ErrNotRewindable and an unknown one client.ErrNotFound; nothing
// changes then.
func (e *Engine) Rewind(ctx context.Context, id, reason string) error {
	return e.e.Rewind(ctx, id, reason)
}
