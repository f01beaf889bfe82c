package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

// testRewind: a rewind rewrites every instance or none; a rewritten one
// is Pending with its new history and inbox, without output, failure,
// completion time or retry state.
func testRewind(t *testing.T, s store.Store) {
	rw, ok := s.(store.Rewinder)
	if !ok {
		t.Skip("the store does not rewind")
	}
	ctx := context.Background()
	end := func(id string) {
		create(t, s, id)
		require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: id,
			Events: []replay.Event{{Index: 0, Type: replay.OrchestrationStarted, RunID: "r1"}, {Index: 1, Type: replay.ActivityScheduled, TaskID: 1},
				{Index: 2, Type: replay.ActivityFailed, TaskID: 1}, {Index: 3, Type: replay.OrchestrationFailed}},
			Attempts: []store.Attempt{{TaskID: 1, Attempt: 3, Started: true}},
			Update:   &store.Update{Status: store.StatusFailed, Failure: &core.Failure{Type: "Bug", Message: "bug"}, Completed: true}}}))
		require.NoError(t, s.AddMessages(ctx, store.Message{InstanceID: id, VisibleAt: t0, Event: replay.Event{Type: replay.EventRaised, Name: "stale"}}))
	}
	end("a")
	end("b")
	create(t, s, "live")
	rewrite := func(id string) store.Rewrite {
		return store.Rewrite{InstanceID: id, Status: store.StatusFailed,
			History:  []replay.Event{{Index: 0, Type: replay.OrchestrationStarted, RunID: "r2"}, {Index: 1, Type: replay.ActivityScheduled, TaskID: 1}},
			Messages: []store.Message{{VisibleAt: t0, Event: replay.Event{Type: replay.OrchestrationRewound, Name: "why"}}},
			Progress: store.Progress{Total: 1}}
	}
	stale := rewrite("b")
	stale.Generation = 7
	for _, tc := range []struct {
		name     string
		rewrites []store.Rewrite
		purge    []string
		want     error
	}{
		{"a stale generation", []store.Rewrite{rewrite("a"), stale}, nil, store.ErrInstanceChanged},
		{"a live instance to purge", []store.Rewrite{rewrite("a")}, []string{"live"}, store.ErrInstanceChanged},
		{"an unknown instance", []store.Rewrite{rewrite("a"), rewrite("nope")}, nil, store.ErrNotFound},
	} {
		err := rw.Rewind(ctx, tc.rewrites, tc.purge)
		require.ErrorIs(t, err, tc.want, tc.name)
		in, err := s.Instance(ctx, "a")
		require.NoError(t, err)
		assert.Equal(t, store.StatusFailed, in.Status, "%s: nothing changed", tc.name)
		hist, err := s.History(ctx, "a")
		require.NoError(t, err)
		assert.Len(t, hist, 4, "%s: nothing changed", tc.name)
	}

	require.NoError(t, rw.Rewind(ctx, []store.Rewrite{rewrite("a")}, nil))
	in, err := s.Instance(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, store.StatusPending, in.Status)
	assert.Nil(t, in.Failure)
	assert.True(t, in.CompletedAt.IsZero())
	assert.Equal(t, 1, in.ActivitiesTotal)
	hist, err := s.History(ctx, "a")
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.Equal(t, "r2", hist[0].RunID)
	att, err := s.Attempts(ctx, "a")
	require.NoError(t, err)
	assert.Empty(t, att, "a fresh retry budget")
	msgs, err := s.ReadyMessages(ctx, t0, 10, nil)
	require.NoError(t, err)
	var forA []replay.EventType
	for _, m := range msgs {
		if m.InstanceID == "a" {
			forA = append(forA, m.Event.Type)
		}
	}
	assert.Equal(t, []replay.EventType{replay.OrchestrationRewound}, forA, "the old inbox is gone")
	assert.ErrorIs(t, rw.Rewind(ctx, []store.Rewrite{rewrite("a")}, nil), store.ErrInstanceChanged, "it is Pending now")
}
