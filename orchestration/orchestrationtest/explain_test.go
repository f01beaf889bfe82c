package orchestrationtest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

// TestStuckSaysWhy: a run left waiting for an event nobody raises fails
// with ErrStuck, saying which event (client.Explain), here in a child.
func TestStuckSaysWhy(t *testing.T) {
	child := orchestration.New("approver", func(ctx orchestration.Context, _ struct{}) (bool, error) {
		return orchestration.WaitEvent[bool](ctx, "approval", 0).Await(ctx)
	})
	parent := orchestration.New("expense", func(ctx orchestration.Context, _ struct{}) (bool, error) {
		return orchestration.CallSub(ctx, child, struct{}{}).Await(ctx)
	})
	env := orchestrationtest.New(t)
	env.RegisterOrchestrators(child)
	_, err := orchestrationtest.Run(env, parent, struct{}{})
	require.ErrorIs(t, err, orchestrationtest.ErrStuck)
	assert.Contains(t, err.Error(), `blocked on sub-orchestration "`)
	assert.Contains(t, err.Error(), `(approver): waiting for the event "approval" since `)
}
