package temporal_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

var waitsForApproval = orchestration.New("waits-for-approval", func(ctx orchestration.Context, _ struct{}) (bool, error) {
	return orchestration.WaitEvent[bool](ctx, "approval", 0).Await(ctx)
})

// TestExplainNoWorker: an instance on a task queue that no worker polls
// waits for one, named by its queue; the conformance suite's
// ExplainNoWorker stops a running worker instead, which Temporal notices
// only once its poller is minutes old, so it does not run here.
func TestExplainNoWorker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	eng := openEngine(t, temporal.Options{})
	id, err := client.Start(ctx, eng, waitsForApproval, struct{}{})
	require.NoError(t, err)
	x, err := client.Explain(ctx, eng, id)
	require.NoError(t, err)
	require.NotEmpty(t, x.Waits, "%+v", x)
	w := x.Waits[0]
	assert.Equal(t, client.WaitWorker, w.Kind)
	assert.Equal(t, "task queue "+eng.Options().TaskQueue, w.Name)
	assert.Equal(t, `no worker running for task queue `+eng.Options().TaskQueue, w.Summary)
	require.NoError(t, eng.Terminate(ctx, id, "done"))
}
