package replay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

var double = activity.New("double", func(_ context.Context, x int) (int, error) { return 2 * x, nil })

// tally counts with updates ("add": a validator refuses 0 and below;
// "add-double" awaits an activity) and answers the query "value".
func tally(register bool) *orchestration.Orchestrator[int, int] {
	return orchestration.New("tally", func(ctx orchestration.Context, n int) (int, error) {
		if register {
			_ = orchestration.HandleQuery(ctx, "value", func(struct{}) (int, error) { return n, nil })
			_ = orchestration.HandleQuery(ctx, "sleeps", func(struct{}) (int, error) {
				return 0, orchestration.Sleep(ctx, 1)
			})
			_ = orchestration.HandleUpdate(ctx, "add", func(_ orchestration.Context, d int) (int, error) {
				n += d
				return n, nil
			}, orchestration.WithValidator(func(d int) error {
				if d <= 0 {
					return fmt.Errorf("%d is not positive", d)
				}
				return nil
			}))
			_ = orchestration.HandleUpdate(ctx, "add-double", func(ctx orchestration.Context, d int) (int, error) {
				v, err := orchestration.Call(ctx, double, d).Await(ctx)
				n += v
				return n, err
			})
		}
		_, err := orchestration.WaitEvent[struct{}](ctx, "stop", 0).Await(ctx)
		return n, err
	})
}

func update(id, name string, arg int) replay.Event {
	b, _ := json.Marshal(arg)
	return replay.Event{Type: replay.UpdateAccepted, InstanceID: id, Name: name, Payload: b, Time: t0}
}

func query(t *testing.T, x *replay.Instance, name string) (int, error) {
	t.Helper()
	out, err := x.Query(name, nil)
	if err != nil {
		return 0, err
	}
	var v int
	require.NoError(t, json.Unmarshal(out, &v))
	return v, nil
}

func TestUpdatesReplayDeterministically(t *testing.T) {
	x := replay.New(core.DefinitionOf(tally(true)), replay.Options{})
	defer x.Close()
	history := x.Apply([]replay.Event{started("tally", 1)}).Events
	res := x.Apply([]replay.Event{update("u1", "add", 2), update("u2", "add", 0), update("u3", "add-double", 5)})
	require.Len(t, res.Rejected, 1)
	assert.Equal(t, "u2", res.Rejected[0].UpdateID)
	assert.ErrorIs(t, res.Rejected[0].Err, core.ErrUpdateRejected)
	assert.ErrorContains(t, res.Rejected[0].Err, "0 is not positive")
	history = append(history, res.Events...)
	var scheduled replay.Event
	for _, e := range res.Events {
		assert.NotEqual(t, "u2", e.UpdateID(), "a rejected update leaves no trace")
		if e.Type == replay.ActivityScheduled {
			scheduled = e
		}
	}
	require.Equal(t, "double", scheduled.Name)
	res = x.Apply([]replay.Event{{Type: replay.ActivityCompleted, TaskID: scheduled.TaskID, Payload: []byte(`10`), Time: t0}})
	history = append(history, res.Events...)
	require.Equal(t, replay.UpdateCompleted, res.Events[len(res.Events)-1].Type)
	assert.Equal(t, "u3", res.Events[len(res.Events)-1].UpdateID())
	assert.Equal(t, `13`, string(res.Events[len(res.Events)-1].Payload))
	v, err := query(t, x, "value")
	require.NoError(t, err)
	assert.Equal(t, 13, v)

	y := replay.New(core.DefinitionOf(tally(true)), replay.Options{})
	defer y.Close()
	require.NoError(t, y.Replay(history))
	v, err = query(t, y, "value")
	require.NoError(t, err)
	assert.Equal(t, 13, v, "the replay reaches the same state")

	z := replay.New(core.DefinitionOf(tally(false)), replay.Options{})
	defer z.Close()
	var nd *core.NondeterminismError
	require.ErrorAs(t, z.Replay(history), &nd, "code that no longer registers the handler")
	assert.Contains(t, nd.Error(), `UpdateAccepted "add"`)
}

func TestHandlerErrors(t *testing.T) {
	x := replay.New(core.DefinitionOf(tally(true)), replay.Options{})
	defer x.Close()
	_, err := x.Query("value", nil)
	require.ErrorIs(t, err, core.ErrHandlerNotRunning, "before the start")
	x.Apply([]replay.Event{started("tally", 1)})
	tests := []struct {
		name string
		want error
		msg  string
	}{
		{"value", nil, ""},
		{"nope", core.ErrUnknownHandler, `query "nope"`},
		{"sleeps", core.ErrQueryFailed, "must not schedule work (TimerCreated)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := query(t, x, tt.name)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
			assert.ErrorContains(t, err, tt.msg)
		})
	}
	res := x.Apply([]replay.Event{update("u1", "nope", 1)})
	require.Len(t, res.Rejected, 1)
	assert.ErrorIs(t, res.Rejected[0].Err, core.ErrUnknownHandler)
	assert.Empty(t, res.Events)
	v, err := query(t, x, "value")
	require.NoError(t, err, "a failed query leaves the instance as it was")
	assert.Equal(t, 1, v)
	res = x.Apply([]replay.Event{{Type: replay.EventRaised, Name: "stop", Payload: []byte(`{}`), Time: t0}})
	require.True(t, res.Done)
	_, err = x.Query("value", nil)
	assert.True(t, errors.Is(err, core.ErrHandlerNotRunning))
}
