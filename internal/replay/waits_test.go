package replay_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// twoWaits waits for "b" with a timeout, then for "a" and "b" at once.
var twoWaits = orchestration.New("two-waits", func(ctx orchestration.Context, _ int) (string, error) {
	_, _ = orchestration.WaitEvent[string](ctx, "b", time.Hour).Await(ctx) // times out
	fa := orchestration.WaitEvent[string](ctx, "a", 0)
	fb := orchestration.WaitEvent[string](ctx, "b", 0)
	a, err := fa.Await(ctx)
	if err != nil {
		return "", err
	}
	b, err := fb.Await(ctx)
	return a + b, err
})

// TestEventWaits: the unanswered waits, each since the step that began
// it; a wait that timed out or was answered is not one.
func TestEventWaits(t *testing.T) {
	x := replay.New(core.DefinitionOf(twoWaits), replay.Options{})
	defer x.Close()
	res := x.Apply([]replay.Event{started("two-waits", 0)})
	assert.Equal(t, []replay.EventWait{{Name: "b", Since: t0}}, x.EventWaits())
	require.Len(t, res.Events, 2, "started, and the timeout's timer")
	timer := res.Events[1]
	t1 := t0.Add(time.Hour)
	x.Apply([]replay.Event{{Type: replay.TimerFired, TaskID: timer.TaskID, Time: t1}})
	assert.Equal(t, []replay.EventWait{{Name: "a", Since: t1}, {Name: "b", Since: t1}}, x.EventWaits(), "the timed-out wait is gone")
	x.Apply([]replay.Event{{Type: replay.EventRaised, Name: "b", Payload: []byte(`"y"`), Time: t1}})
	assert.Equal(t, []replay.EventWait{{Name: "a", Since: t1}}, x.EventWaits())
	res = x.Apply([]replay.Event{{Type: replay.EventRaised, Name: "a", Payload: []byte(`"x"`), Time: t1}})
	assert.True(t, res.Done)
	assert.Nil(t, x.EventWaits())
}
