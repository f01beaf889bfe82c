// Package storetest is the conformance suite of store.Store: every
// implementation runs it (Run with a constructor of fresh stores).
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/billing"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

// Run runs every case on stores made by open; each case gets a fresh one.
// Stores are closed by the suite.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	cases := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"CreateAndGet", testCreate},
		{"DuplicateAndReplace", testDuplicate},
		{"InboxVisibility", testInbox},
		{"CommitStep", testCommit},
		{"CommitIsAtomic", testAtomic},
		{"ContinueAsNewResetsHistory", testReset},
		{"ListFilters", testList},
		{"SetStatus", testSetStatus},
		{"Purge", testPurge},
		{"WorkerLockIsExclusive", testLock},
		{"Registered", testRegistered},
		{"CommitPurgeReplaces", testCommitPurge},
		{"AttemptsAreDurableRetryState", testAttempts},
		{"NotHostedInstancesAreBlocked", testBlocked},
		{"UsageAddsUpWithTheCommit", testUsage},
		{"Schedules", testSchedules},
		{"StartKeys", testStartKeys},
		{"RewindIsAllOrNothing", testRewind},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { require.NoError(t, s.Close()) })
			c.fn(t, s)
		})
	}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func create(t *testing.T, s store.Store, id string) {
	t.Helper()
	inst := store.Instance{ID: id, Name: "orch", Status: store.StatusPending, Input: []byte(`1`), CreatedAt: t0, UpdatedAt: t0}
	start := store.Message{InstanceID: id, VisibleAt: t0, Event: replay.Event{Type: replay.OrchestrationStarted, Name: "orch", InstanceID: id, Payload: []byte(`1`)}}
	require.NoError(t, s.CreateInstance(context.Background(), inst, start, false))
}

func testCreate(t *testing.T, s store.Store) {
	ctx := context.Background()
	create(t, s, "a")
	in, err := s.Instance(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "orch", in.Name)
	assert.Equal(t, store.StatusPending, in.Status)
	assert.Equal(t, []byte(`1`), in.Input)
	assert.True(t, in.CreatedAt.Equal(t0))
	_, err = s.Instance(ctx, "missing")
	assert.ErrorIs(t, err, store.ErrNotFound)
	msgs, err := s.ReadyMessages(ctx, t0, 10, nil)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, replay.OrchestrationStarted, msgs[0].Event.Type)
}

func testDuplicate(t *testing.T, s store.Store) {
	ctx := context.Background()
	create(t, s, "a")
	start := store.Message{InstanceID: "a", VisibleAt: t0, Event: replay.Event{Type: replay.OrchestrationStarted}}
	err := s.CreateInstance(ctx, store.Instance{ID: "a", Name: "orch", Status: store.StatusPending}, start, false)
	assert.ErrorIs(t, err, store.ErrAlreadyExists)
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "a", Events: []replay.Event{{Index: 0, Type: replay.OrchestrationStarted}}}}))
	require.NoError(t, s.CreateInstance(ctx, store.Instance{ID: "a", Name: "other", Status: store.StatusPending, Generation: 1}, start, true))
	in, err := s.Instance(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "other", in.Name)
	hist, err := s.History(ctx, "a")
	require.NoError(t, err)
	assert.Empty(t, hist, "replace deletes the old history")
	msgs, err := s.ReadyMessages(ctx, t0, 10, nil)
	require.NoError(t, err)
	assert.Len(t, msgs, 1, "and the old messages")
}

func testInbox(t *testing.T, s store.Store) {
	ctx := context.Background()
	create(t, s, "a")
	later := t0.Add(time.Hour)
	require.NoError(t, s.AddMessages(ctx,
		store.Message{InstanceID: "a", VisibleAt: t0, Event: replay.Event{Type: replay.EventRaised, Name: "e1"}},
		store.Message{InstanceID: "a", VisibleAt: later, Event: replay.Event{Type: replay.TimerFired, TaskID: 3}}))
	msgs, err := s.ReadyMessages(ctx, t0, 10, nil)
	require.NoError(t, err)
	require.Len(t, msgs, 2, "the timer is not visible yet")
	assert.Equal(t, "e1", msgs[1].Event.Name, "insertion order")
	next, err := s.NextVisible(ctx, t0)
	require.NoError(t, err)
	assert.True(t, next.Equal(later))
	msgs, err = s.ReadyMessages(ctx, later, 10, map[int64]bool{msgs[0].ID: true})
	require.NoError(t, err)
	require.Len(t, msgs, 2, "skip leaves out in-flight messages")
	assert.Equal(t, replay.TimerFired, msgs[1].Event.Type)
	require.NoError(t, s.SetStatus(ctx, "a", []string{store.StatusPending}, store.StatusSuspended))
	msgs, err = s.ReadyMessages(ctx, later, 10, nil)
	require.NoError(t, err)
	assert.Empty(t, msgs, "suspended instances get nothing")
}

func testCommit(t *testing.T, s store.Store) {
	ctx := context.Background()
	create(t, s, "p")
	msgs, err := s.ReadyMessages(ctx, t0, 10, nil)
	require.NoError(t, err)
	step := store.Step{
		InstanceID: "p",
		Events: []replay.Event{
			{Index: 0, Type: replay.OrchestrationStarted, Name: "orch", Payload: []byte(`1`)},
			{Index: 1, Type: replay.ActivityScheduled, TaskID: 1, Name: "act", Payload: []byte(`"x"`)},
			{Index: 2, Type: replay.SubOrchestrationScheduled, TaskID: 2, Name: "child", InstanceID: "c"},
		},
		ConsumedMessages: []int64{msgs[0].ID},
		NewInstances:     []store.Instance{{ID: "c", Name: "child", Status: store.StatusPending, ParentID: "p", ParentTaskID: 2, CreatedAt: t0, UpdatedAt: t0}},
		NewMessages:      []store.Message{{InstanceID: "c", VisibleAt: t0, Event: replay.Event{Type: replay.OrchestrationStarted, Name: "child"}}},
		Update:           &store.Update{Status: store.StatusRunning, CustomStatus: []byte(`"busy"`), Progress: &store.Progress{Done: 0, Total: 1}},
	}
	require.NoError(t, s.Commit(ctx, []store.Step{step}))
	hist, err := s.History(ctx, "p")
	require.NoError(t, err)
	require.Len(t, hist, 3)
	assert.Equal(t, replay.ActivityScheduled, hist[1].Type)
	assert.Equal(t, []byte(`"x"`), []byte(hist[1].Payload))
	p, err := s.Instance(ctx, "p")
	require.NoError(t, err)
	assert.Equal(t, store.StatusRunning, p.Status)
	assert.Equal(t, []byte(`"busy"`), p.CustomStatus)
	assert.Equal(t, 1, p.ActivitiesTotal)
	c, err := s.Instance(ctx, "c")
	require.NoError(t, err)
	assert.Equal(t, "p", c.ParentID)
	msgs, err = s.ReadyMessages(ctx, t0, 10, nil)
	require.NoError(t, err)
	require.Len(t, msgs, 1, "the consumed message is gone, the child's start is there")
	assert.Equal(t, "c", msgs[0].InstanceID)

	fail := &core.Failure{Type: "Boom", Message: "it broke"}
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "p",
		Events: []replay.Event{{Index: 3, Type: replay.OrchestrationFailed, Failure: fail}},
		Update: &store.Update{Status: store.StatusFailed, Failure: fail, Completed: true, Progress: &store.Progress{Done: 1, Total: 1}}}}))
	p, err = s.Instance(ctx, "p")
	require.NoError(t, err)
	assert.Equal(t, store.StatusFailed, p.Status)
	assert.Equal(t, fail, p.Failure)
	assert.False(t, p.CompletedAt.IsZero())
}

func testAtomic(t *testing.T, s store.Store) {
	ctx := context.Background()
	create(t, s, "a")
	create(t, s, "b")
	msgs, err := s.ReadyMessages(ctx, t0, 10, nil)
	require.NoError(t, err)
	err = s.Commit(ctx, []store.Step{
		{InstanceID: "a", Events: []replay.Event{{Index: 0, Type: replay.OrchestrationStarted}}, ConsumedMessages: []int64{msgs[0].ID}},
		{InstanceID: "b", NewInstances: []store.Instance{{ID: "a", Name: "dup", Status: store.StatusPending}}}, // fails
	})
	require.Error(t, err)
	hist, err := s.History(ctx, "a")
	require.NoError(t, err)
	assert.Empty(t, hist, "nothing of a failed batch is written")
	msgs, err = s.ReadyMessages(ctx, t0, 10, nil)
	require.NoError(t, err)
	assert.Len(t, msgs, 2, "nothing of a failed batch is consumed")
}

func testReset(t *testing.T, s store.Store) {
	ctx := context.Background()
	create(t, s, "a")
	require.NoError(t, s.AddMessages(ctx, store.Message{InstanceID: "a", VisibleAt: t0.Add(time.Hour), Event: replay.Event{Type: replay.TimerFired}}))
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "a", Events: []replay.Event{{Index: 0, Type: replay.OrchestrationStarted}, {Index: 1, Type: replay.TimerCreated, TaskID: 1}}}}))
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "a", ResetHistory: true, DropPending: true,
		Update:      &store.Update{Status: store.StatusRunning, Generation: 1, Input: []byte(`2`)},
		NewMessages: []store.Message{{InstanceID: "a", VisibleAt: t0, Event: replay.Event{Type: replay.OrchestrationStarted, Generation: 1}}}}}))
	hist, err := s.History(ctx, "a")
	require.NoError(t, err)
	assert.Empty(t, hist)
	in, err := s.Instance(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, 1, in.Generation)
	assert.Equal(t, []byte(`2`), in.Input)
	next, err := s.NextVisible(ctx, time.Now())
	require.NoError(t, err)
	assert.True(t, next.IsZero(), "the old run's timers are dropped")
}

func testList(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, id := range []string{"a", "b", "c"} {
		inst := store.Instance{ID: id, Name: "orch", Status: store.StatusPending, CreatedAt: t0.Add(time.Duration(i) * time.Minute), UpdatedAt: t0}
		if id == "c" {
			inst.Name, inst.ParentID = "child", "a"
		}
		require.NoError(t, s.CreateInstance(ctx, inst, store.Message{InstanceID: id, Event: replay.Event{Type: replay.OrchestrationStarted}}, false))
	}
	all, err := s.List(ctx, store.Filter{})
	require.NoError(t, err)
	require.Len(t, all, 3)
	assert.Equal(t, "c", all[0].ID, "newest first")
	byName, err := s.List(ctx, store.Filter{Name: "orch"})
	require.NoError(t, err)
	assert.Len(t, byName, 2)
	children, err := s.List(ctx, store.Filter{ParentID: "a"})
	require.NoError(t, err)
	require.Len(t, children, 1)
	limited, err := s.List(ctx, store.Filter{Limit: 1, CreatedBefore: t0.Add(90 * time.Second)})
	require.NoError(t, err)
	require.Len(t, limited, 1)
	assert.Equal(t, "b", limited[0].ID)
	none, err := s.List(ctx, store.Filter{Statuses: []string{store.StatusCompleted}})
	require.NoError(t, err)
	assert.Empty(t, none)

	// Keyset paging: after (created_at, id) in the list order; "d" and
	// "e" share a creation time, ordered by id.
	for _, id := range []string{"e", "d"} {
		inst := store.Instance{ID: id, Name: "orch", Status: store.StatusPending, CreatedAt: t0.Add(time.Minute), UpdatedAt: t0}
		require.NoError(t, s.CreateInstance(ctx, inst, store.Message{InstanceID: id, Event: replay.Event{Type: replay.OrchestrationStarted}}, false))
	}
	var ids []string
	var after *store.ListKey
	for {
		page, err := s.List(ctx, store.Filter{Limit: 2, After: after})
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, in := range page {
			ids = append(ids, in.ID)
		}
		last := page[len(page)-1]
		after = &store.ListKey{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	assert.Equal(t, []string{"c", "b", "d", "e", "a"}, ids, "pages of 2 in list order")
	rest, err := s.List(ctx, store.Filter{After: &store.ListKey{CreatedAt: t0.Add(time.Minute), ID: "b"}, Name: "orch"})
	require.NoError(t, err)
	assert.Equal(t, []string{"d", "e", "a"}, instanceIDs(rest), "after a key, with a filter")
}

func instanceIDs(ins []*store.Instance) []string {
	ids := make([]string, len(ins))
	for i, in := range ins {
		ids[i] = in.ID
	}
	return ids
}

func testSetStatus(t *testing.T, s store.Store) {
	ctx := context.Background()
	create(t, s, "a")
	require.NoError(t, s.SetStatus(ctx, "a", []string{store.StatusPending, store.StatusRunning}, store.StatusSuspended))
	err := s.SetStatus(ctx, "a", []string{store.StatusRunning}, store.StatusSuspended)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is Suspended, not Running")
	assert.ErrorIs(t, s.SetStatus(ctx, "missing", []string{store.StatusRunning}, store.StatusSuspended), store.ErrNotFound)
}

func testPurge(t *testing.T, s store.Store) {
	ctx := context.Background()
	create(t, s, "a")
	err := s.Purge(ctx, "a")
	require.Error(t, err, "a live instance is not purged")
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "a", Events: []replay.Event{{Index: 0, Type: replay.OrchestrationStarted}},
		Update: &store.Update{Status: store.StatusCompleted, Output: []byte(`2`), Completed: true}}}))
	require.NoError(t, s.Purge(ctx, "a"))
	_, err = s.Instance(ctx, "a")
	assert.ErrorIs(t, err, store.ErrNotFound)
	hist, err := s.History(ctx, "a")
	require.NoError(t, err)
	assert.Empty(t, hist)
	assert.ErrorIs(t, s.Purge(ctx, "a"), store.ErrNotFound)
}

func testLock(t *testing.T, s store.Store) {
	release, err := s.LockWorker()
	require.NoError(t, err)
	_, err = s.LockWorker()
	require.Error(t, err, "a second worker is refused")
	release()
	release2, err := s.LockWorker()
	require.NoError(t, err, "the lock is free again")
	release2()
}

func testRegistered(t *testing.T, s store.Store) {
	ctx := context.Background()
	names, err := s.Registered(ctx)
	require.NoError(t, err)
	assert.Empty(t, names)
	require.NoError(t, s.SetRegistered(ctx, []string{"b", "a"}))
	require.NoError(t, s.SetRegistered(ctx, []string{"c", "a"}))
	names, err = s.Registered(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "c"}, names, "the last worker's names, sorted")
}

func testCommitPurge(t *testing.T, s store.Store) {
	ctx := context.Background()
	create(t, s, "a")
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "a", Events: []replay.Event{{Index: 0, Type: replay.OrchestrationStarted}, {Index: 1, Type: replay.TimerCreated, TaskID: 1}}}}))
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "a", Purge: true,
		NewInstances: []store.Instance{{ID: "a", Name: "orch", Status: store.StatusPending, Generation: 1, CreatedAt: t0, UpdatedAt: t0}},
		Events:       []replay.Event{{Index: 0, Type: replay.OrchestrationStarted, Generation: 1}},
		Update:       &store.Update{Status: store.StatusRunning}}}))
	hist, err := s.History(ctx, "a")
	require.NoError(t, err)
	require.Len(t, hist, 1, "the old run's history is gone")
	assert.Equal(t, 1, hist[0].Generation)
	in, err := s.Instance(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, 1, in.Generation)
	msgs, err := s.ReadyMessages(ctx, t0, 10, nil)
	require.NoError(t, err)
	assert.Empty(t, msgs, "the old run's messages are gone")
}

func testAttempts(t *testing.T, s store.Store) {
	ctx := context.Background()
	create(t, s, "a")
	due := t0.Add(time.Hour)
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "a",
		Attempts: []store.Attempt{{TaskID: 1, Attempt: 1, Started: true}, {TaskID: 2, Attempt: 2, DueAt: due}}}}))
	got, err := s.Attempts(ctx, "a")
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, store.Attempt{TaskID: 1, Attempt: 1, Started: true}, got[1])
	assert.Equal(t, 2, got[2].Attempt)
	assert.True(t, got[2].DueAt.Equal(due))
	assert.False(t, got[2].Started)

	retried := []replay.AttemptRecord{{Attempt: 1, StartedAt: t0, FinishedAt: t0.Add(time.Second),
		Failure: &core.Failure{Type: "Transient", Message: "attempt 1 fails"}, RetryAt: due}}
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "a",
		Attempts:      []store.Attempt{{TaskID: 2, Attempt: 2, DueAt: due, Started: true, StartedAt: due.Add(time.Millisecond), Retried: retried}},
		ClearAttempts: []int64{1}}}))
	got, err = s.Attempts(ctx, "a")
	require.NoError(t, err)
	assert.Len(t, got, 1, "a task with its result has no retry state")
	assert.True(t, got[2].Started, "a start mark replaces the retry")
	assert.True(t, got[2].StartedAt.Equal(due.Add(time.Millisecond)), "with its start time")
	require.Len(t, got[2].Retried, 1, "and the attempts retried before it")
	r := got[2].Retried[0]
	assert.Equal(t, []any{1, true, true, "Transient", "attempt 1 fails", true},
		[]any{r.Attempt, r.StartedAt.Equal(t0), r.FinishedAt.Equal(t0.Add(time.Second)), r.Failure.Type, r.Failure.Message, r.RetryAt.Equal(due)})

	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "a", ResetHistory: true,
		Attempts: []store.Attempt{{TaskID: 3, Attempt: 2}}}}))
	got, err = s.Attempts(ctx, "a")
	require.NoError(t, err)
	assert.Empty(t, got, "continue-as-new drops the run's retry state, that step's too")

	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "a", Attempts: []store.Attempt{{TaskID: 1, Attempt: 2}},
		Update: &store.Update{Status: store.StatusCompleted, Completed: true}}}))
	got, err = s.Attempts(ctx, "a")
	require.NoError(t, err)
	assert.Empty(t, got, "the end of the run drops its retry state")
}

func testBlocked(t *testing.T, s store.Store) {
	ctx := context.Background()
	create(t, s, "a") // of orchestrator "orch"
	require.NoError(t, s.SetRegistered(ctx, []string{"other"}))
	in, err := s.Instance(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, `orchestrator "orch" is not registered on the worker`, in.Blocked)
	msgs, err := s.ReadyMessages(ctx, t0, 10, nil)
	require.NoError(t, err)
	assert.Empty(t, msgs, "a worker does not get the messages of instances it does not host")
	require.NoError(t, s.SetRegistered(ctx, []string{"orch"}))
	in, err = s.Instance(ctx, "a")
	require.NoError(t, err)
	assert.Empty(t, in.Blocked)
	msgs, err = s.ReadyMessages(ctx, t0, 10, nil)
	require.NoError(t, err)
	assert.Len(t, msgs, 1)
}

// testUsage: a step's usage adds to its instance's, in the same commit,
// and survives continue-as-new; a failed commit adds nothing; SubUsage
// sums the descendants created since their parent (not a replaced run's),
// running or ended.
func testUsage(t *testing.T, s store.Store) {
	ctx := context.Background()
	one := billing.Usage{Invocations: 1, BilledMs: 100, MBMs: 100 * 128}
	usage := func(id string) billing.Usage {
		t.Helper()
		in, err := s.Instance(ctx, id)
		require.NoError(t, err)
		return in.Usage
	}
	create(t, s, "p")
	assert.Zero(t, usage("p"), "a new instance has used nothing")
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "p", Usage: one,
		Events: []replay.Event{{Index: 0, Type: replay.OrchestrationStarted}}}}))
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "p", Usage: one.Add(one)}}))
	assert.Equal(t, billing.Usage{Invocations: 3, BilledMs: 300, MBMs: 300 * 128}, usage("p"))

	require.Error(t, s.Commit(ctx, []store.Step{{InstanceID: "p", Usage: one},
		{InstanceID: "p", NewInstances: []store.Instance{{ID: "p", Name: "dup", Status: store.StatusPending, CreatedAt: t0, UpdatedAt: t0}}}}))
	assert.Equal(t, int64(3), usage("p").Invocations, "a failed commit adds nothing")

	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "p", ResetHistory: true,
		Update: &store.Update{Status: store.StatusRunning, Generation: 1, Input: []byte(`2`)}}}))
	assert.Equal(t, int64(3), usage("p").Invocations, "continue-as-new keeps the sum")

	child := func(id, parent string, at time.Time) store.Instance {
		return store.Instance{ID: id, Name: "child", Status: store.StatusPending, ParentID: parent, CreatedAt: at, UpdatedAt: at}
	}
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "p",
		NewInstances: []store.Instance{child("c1", "p", t0), child("c2", "p", t0.Add(time.Second))}}}))
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "c1", Usage: one,
		NewInstances: []store.Instance{child("g1", "c1", t0.Add(time.Minute))}}}))
	require.NoError(t, s.Commit(ctx, []store.Step{{InstanceID: "g1", Usage: one.Add(one)}, {InstanceID: "c2", Usage: one,
		Update: &store.Update{Status: store.StatusCompleted, Completed: true}}}))
	sub, err := s.SubUsage(ctx, "p")
	require.NoError(t, err)
	assert.Equal(t, billing.Usage{Invocations: 4, BilledMs: 400, MBMs: 400 * 128}, sub, "children and grandchildren, running or ended")
	sub, err = s.SubUsage(ctx, "g1")
	require.NoError(t, err)
	assert.Zero(t, sub, "no children")
	sub, err = s.SubUsage(ctx, "unknown")
	require.NoError(t, err)
	assert.Zero(t, sub)

	// A new run of c1 (its id reused): its earlier run's child is not its.
	require.NoError(t, s.CreateInstance(ctx, store.Instance{ID: "c1", Name: "child", Status: store.StatusPending,
		CreatedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour)}, store.Message{InstanceID: "c1",
		Event: replay.Event{Type: replay.OrchestrationStarted}}, true))
	assert.Zero(t, usage("c1"), "a new run starts from nothing")
	sub, err = s.SubUsage(ctx, "c1")
	require.NoError(t, err)
	assert.Zero(t, sub, "the replaced run's child is not the new run's")
}
