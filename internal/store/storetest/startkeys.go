package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

func keyedStart(id string, input string, at time.Time) (store.Instance, store.Message) {
	inst := store.Instance{ID: id, Name: "orch", Status: store.StatusPending, Input: []byte(input)}
	return inst, store.Message{InstanceID: id, VisibleAt: at,
		Event: replay.Event{Type: replay.OrchestrationStarted, Name: "orch", InstanceID: id, Payload: []byte(input), Time: at}}
}

// testStartKeys: a held key returns its holder (dedup), or moves the
// holder's waiting start (debounce); an expired one, or one whose
// instance started (debounce), is taken by the new instance.
func testStartKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := time.Unix(1_700_000_000, 0).UTC()
	create := func(id, input string, now, at time.Time, key string, debounce bool) string {
		inst, start := keyedStart(id, input, at)
		got, err := s.CreateKeyed(ctx, inst, start, false, store.StartKey{Key: key, Now: now, Expires: now.Add(time.Minute), Debounce: debounce})
		require.NoError(t, err)
		return got
	}
	// Dedup.
	assert.Equal(t, "a", create("a", `1`, t0, t0, "d", false))
	assert.Equal(t, "a", create("b", `2`, t0.Add(59*time.Second), t0, "d", false), "held: the holder")
	_, err := s.Instance(ctx, "b")
	assert.ErrorIs(t, err, store.ErrNotFound, "nothing created")
	assert.Equal(t, "c", create("c", `3`, t0.Add(time.Minute), t0, "d", false), "expired: taken")

	// Debounce: the waiting start moves, with the last input.
	later := t0.Add(10 * time.Second)
	assert.Equal(t, "x", create("x", `1`, t0, later, "b", true))
	assert.Equal(t, "x", create("y", `2`, t0.Add(5*time.Second), later.Add(5*time.Second), "b", true))
	in, err := s.Instance(ctx, "x")
	require.NoError(t, err)
	assert.Equal(t, `2`, string(in.Input))
	next, err := s.NextVisible(ctx, t0.Add(5*time.Second))
	require.NoError(t, err)
	assert.True(t, next.Equal(later.Add(5*time.Second)), "the start moved: %s", next)
	msgs, err := s.ReadyMessages(ctx, later.Add(5*time.Second), 10, nil)
	require.NoError(t, err)
	var ofX []store.Message
	for _, m := range msgs {
		if m.InstanceID == "x" {
			ofX = append(ofX, m)
		}
	}
	require.Len(t, ofX, 1, "one start of x")
	assert.Equal(t, "x", ofX[0].Event.InstanceID)
	assert.Equal(t, `2`, string(ofX[0].Event.Payload))
	// Once its start is due, the next debounced start is a new instance.
	assert.Equal(t, "z", create("z", `3`, later.Add(5*time.Second), later.Add(time.Minute), "b", true))
}
