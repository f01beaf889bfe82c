package client_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
)

// fakeClient answers Status, ActivityAttempts and, for the ids in waits,
// ExplainWaits; the other methods are not called.
type fakeClient struct {
	client.Client
	status   map[string]*client.Status
	attempts map[string][]client.ActivityAttempt
	waits    map[string][]client.Wait
}

func (f *fakeClient) Status(_ context.Context, id string) (*client.Status, error) {
	if st, ok := f.status[id]; ok {
		return st, nil
	}
	return nil, fmt.Errorf("%w: %q", client.ErrNotFound, id)
}

func (f *fakeClient) ActivityAttempts(_ context.Context, id string) ([]client.ActivityAttempt, error) {
	return f.attempts[id], nil
}

func (f *fakeClient) ExplainWaits(_ context.Context, id string) ([]client.Wait, error) {
	return f.waits[id], nil
}

func (f *fakeClient) Codec() codec.Codec { return codec.JSON }

// plain hides ExplainWaits: an engine that is not an Explainer.
type plain struct{ client.Client }

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func TestExplainSummaries(t *testing.T) {
	running := func(id string) *client.Status {
		return &client.Status{InstanceID: id, Name: "order", RuntimeStatus: client.StatusRunning, UpdatedAt: t0}
	}
	tests := []struct {
		name     string
		status   *client.Status
		attempts []client.ActivityAttempt
		waits    []client.Wait
		plain    bool
		want     []string
	}{
		{name: "finished", status: &client.Status{InstanceID: "i", RuntimeStatus: client.StatusCompleted}, want: nil},
		{name: "event", status: running("i"), waits: []client.Wait{{Kind: client.WaitEvent, Name: "approval", Since: t0}},
			want: []string{`waiting for the event "approval" since 2026-12-01T12:00:00Z`}},
		{name: "retry due", status: running("i"), attempts: []client.ActivityAttempt{
			{TaskID: 1, Name: "charge", Attempt: 1, MaxAttempts: 5, State: client.AttemptCompleted},
			{TaskID: 2, Name: "charge", Attempt: 1, MaxAttempts: 5, State: client.AttemptFailed, Failure: &client.Failure{Message: "card declined"}},
			{TaskID: 2, Name: "charge", Attempt: 2, MaxAttempts: 5, State: client.AttemptFailed, Failure: &client.Failure{Message: "card declined again"}},
			{TaskID: 2, Name: "charge", Attempt: 3, MaxAttempts: 5, State: client.AttemptScheduled, ScheduledAt: t0.Add(time.Hour)},
		}, want: []string{`activity "charge" attempt 3 of 5, failing with "card declined again", next try at 2026-12-01T13:00:00Z`}},
		{name: "running, no policy", status: running("i"), attempts: []client.ActivityAttempt{
			{TaskID: 1, Name: "charge", Attempt: 1, State: client.AttemptRunning, ScheduledAt: t0, StartedAt: t0.Add(time.Second)},
		}, want: []string{`activity "charge" attempt 1 running since 2026-12-01T12:00:01Z`}},
		{name: "timer", status: running("i"), waits: []client.Wait{{Kind: client.WaitTimer, Since: t0, Until: t0.Add(time.Hour)}},
			want: []string{"a timer due at 2026-12-01T13:00:00Z"}},
		{name: "engine first, code by time", status: running("i"), waits: []client.Wait{
			{Kind: client.WaitTimer, Since: t0.Add(time.Minute), Until: t0.Add(time.Hour)},
			{Kind: client.WaitEvent, Name: "b", Since: t0},
			{Kind: client.WaitWorker, Name: "task queue q"},
		}, want: []string{"no worker running for task queue q", `waiting for the event "b" since 2026-12-01T12:00:00Z`, "a timer due at 2026-12-01T13:00:00Z"}},
		{name: "suspended from status", status: &client.Status{InstanceID: "i", RuntimeStatus: client.StatusSuspended, UpdatedAt: t0},
			want: []string{"suspended since 2026-12-01T12:00:00Z"}},
		{name: "suspended by the engine", status: &client.Status{InstanceID: "i", RuntimeStatus: client.StatusSuspended, UpdatedAt: t0},
			waits: []client.Wait{{Kind: client.WaitWorker}, {Kind: client.WaitSuspended, Since: t0.Add(time.Minute), Reason: "maintenance"}},
			want:  []string{"suspended since 2026-12-01T12:01:00Z: maintenance", "no worker running"}},
		{name: "blocked, not an explainer", plain: true,
			status: &client.Status{InstanceID: "i", RuntimeStatus: client.StatusPending, Blocked: "quarantined"},
			want:   []string{"blocked: quarantined"}},
		{name: "unknown name replaces blocked", status: &client.Status{InstanceID: "i", Name: "x", RuntimeStatus: client.StatusPending, Blocked: "not registered"},
			waits: []client.Wait{{Kind: client.WaitUnknownName, Name: "x"}},
			want:  []string{`the worker does not know the orchestrator "x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeClient{status: map[string]*client.Status{"i": tt.status},
				attempts: map[string][]client.ActivityAttempt{"i": tt.attempts}, waits: map[string][]client.Wait{"i": tt.waits}}
			var c client.Client = f
			if tt.plain {
				c = plain{f}
			}
			x, err := client.Explain(context.Background(), c, "i")
			require.NoError(t, err)
			var got []string
			for _, w := range x.Waits {
				got = append(got, w.Summary)
			}
			assert.Equal(t, tt.want, got)
			assert.NotNil(t, x.Waits, "an empty list, not null, in JSON")
		})
	}
}

// TestExplainFollowsChildren: a blocked child is explained under its
// parent, to MaxExplainDepth levels, and one not found is left out.
func TestExplainFollowsChildren(t *testing.T) {
	f := &fakeClient{status: map[string]*client.Status{}, waits: map[string][]client.Wait{}}
	const n = client.MaxExplainDepth + 2
	for i := range n {
		id := fmt.Sprintf("c%d", i)
		f.status[id] = &client.Status{InstanceID: id, Name: "level", RuntimeStatus: client.StatusRunning}
		f.waits[id] = []client.Wait{{Kind: client.WaitSubOrchestration, Name: "level", InstanceID: fmt.Sprintf("c%d", i+1)}}
	}
	delete(f.status, fmt.Sprintf("c%d", n-1)) // the last was never created
	x, err := client.Explain(context.Background(), f, "c0")
	require.NoError(t, err)
	depth := 1
	for w := x.Waits[0]; w.Child != nil; w = w.Child.Waits[0] {
		depth++
	}
	assert.Equal(t, client.MaxExplainDepth, depth, "explained to the bound")
	assert.Contains(t, x.Summary, `blocked on sub-orchestration "c1" (level): blocked on sub-orchestration "c2" (level)`)

	_, err = client.Explain(context.Background(), f, "nope")
	assert.ErrorIs(t, err, client.ErrNotFound)
}
