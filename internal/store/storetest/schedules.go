package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

// testSchedules checks store.Schedules: versioned writes, instances and
// messages written with the schedule or not at all, existing instances
// left alone.
func testSchedules(t *testing.T, s store.Store) {
	ss, ok := s.(store.Schedules)
	require.True(t, ok, "the store keeps schedules")
	ctx := context.Background()
	require.NoError(t, ss.CreateSchedule(ctx, "b", []byte(`{"n":0}`)))
	require.NoError(t, ss.CreateSchedule(ctx, "a", []byte(`{"n":0}`)))
	require.ErrorIs(t, ss.CreateSchedule(ctx, "a", []byte(`{}`)), store.ErrAlreadyExists)
	_, err := ss.Schedule(ctx, "nope")
	require.ErrorIs(t, err, store.ErrScheduleNotFound)
	_, err = ss.WriteSchedule(ctx, store.ScheduleWrite{ID: "nope", Version: 1, Data: []byte(`{}`)})
	require.ErrorIs(t, err, store.ErrScheduleNotFound)

	sc, err := ss.Schedule(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, int64(1), sc.Version)
	create(t, s, "a-existing")
	start := func(id string) store.ScheduleStart {
		return store.ScheduleStart{
			Instance: store.Instance{ID: id, Name: "orch", Status: store.StatusPending, CreatedAt: t0, UpdatedAt: t0},
			Start:    store.Message{VisibleAt: t0, Event: replay.Event{Type: replay.OrchestrationStarted, Name: "orch", InstanceID: id}},
		}
	}
	created, err := ss.WriteSchedule(ctx, store.ScheduleWrite{ID: "a", Version: 1, Data: []byte(`{"n":1}`),
		Starts:   []store.ScheduleStart{start("a-1"), start("a-existing"), start("a-2")},
		Messages: []store.Message{{InstanceID: "a-existing", Event: replay.Event{Type: replay.TerminationRequested, Name: "overlap"}}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"a-1", "a-2"}, created, "an existing instance is left alone")
	for _, id := range created {
		in, err := s.Instance(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, store.StatusPending, in.Status)
	}
	msgs, err := s.ReadyMessages(ctx, t0, 100, nil)
	require.NoError(t, err)
	byInstance := map[string][]replay.EventType{}
	for _, m := range msgs {
		byInstance[m.InstanceID] = append(byInstance[m.InstanceID], m.Event.Type)
	}
	assert.Equal(t, []replay.EventType{replay.OrchestrationStarted}, byInstance["a-1"])
	assert.Equal(t, []replay.EventType{replay.OrchestrationStarted, replay.TerminationRequested}, byInstance["a-existing"])

	// A write from a stale version changes nothing.
	_, err = ss.WriteSchedule(ctx, store.ScheduleWrite{ID: "a", Version: 1, Data: []byte(`{"n":9}`), Starts: []store.ScheduleStart{start("a-3")}})
	require.ErrorIs(t, err, store.ErrConflict)
	_, err = s.Instance(ctx, "a-3")
	require.ErrorIs(t, err, store.ErrNotFound, "nothing of a conflicting write is kept")
	sc, err = ss.Schedule(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, int64(2), sc.Version)
	assert.JSONEq(t, `{"n":1}`, string(sc.Data))

	all, err := ss.Schedules(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, "a", all[0].ID, "by id")

	_, err = ss.WriteSchedule(ctx, store.ScheduleWrite{ID: "a", Version: 2})
	require.NoError(t, err, "nil data deletes")
	_, err = ss.Schedule(ctx, "a")
	require.ErrorIs(t, err, store.ErrScheduleNotFound)
	_, err = s.Instance(ctx, "a-1")
	require.NoError(t, err, "its instances stay")
}
