package embedded

import (
	"context"

	"github.com/cloudbutton/cloudbutton/client"
)

var _ client.Explainer = (*Engine)(nil)

// ExplainWaits implements client.Explainer, for client.Explain: the
// run's pending timers and sub-orchestrations, read from its history; its
// waits for external events (which history does not record), known in
// the worker's process only; and WaitWorker when no worker holds the
// database's worker lock, in any process. From another process than the
// worker's, an instance whose code waits on nothing history records is
// WaitUnknown ("probably an external event").
func (e *Engine) ExplainWaits(ctx context.Context, id string) ([]client.Wait, error) {
	return e.e.ExplainWaits(ctx, id)
}
