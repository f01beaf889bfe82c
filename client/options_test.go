package client_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// recorder is a Client that records what StartRaw is given.
type recorder struct {
	client.Client
	starts []client.StartOptions
}

func (r *recorder) Codec() codec.Codec { return codec.JSON }

func (r *recorder) StartRaw(_ context.Context, _ string, _ []byte, opts client.StartOptions) (string, error) {
	r.starts = append(r.starts, opts)
	return opts.InstanceID, nil
}

func TestStartOptions(t *testing.T) {
	at := time.Date(2030, 5, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		opts    []client.StartOption
		want    client.StartOptions
		wantErr string
	}{
		{"none", nil, client.StartOptions{}, ""},
		{"all", []client.StartOption{client.WithInstanceID("o-1"), client.WithReusePolicy(client.RejectDuplicate), client.WithStartAt(at)},
			client.StartOptions{InstanceID: "o-1", Reuse: client.RejectDuplicate, StartAt: at}, ""},
		{"a later option overrides", []client.StartOption{client.WithInstanceID("o-1"), client.WithInstanceID("o-2")},
			client.StartOptions{InstanceID: "o-2"}, ""},
		{"empty instance id", []client.StartOption{client.WithInstanceID("")}, client.StartOptions{},
			`client.Start("order"): WithInstanceID(""): empty; omit the option for a random id`},
		{"unknown reuse policy", []client.StartOption{client.WithReusePolicy(7)}, client.StartOptions{},
			`client.Start("order"): WithReusePolicy(7): unknown policy`},
		{"zero start time", []client.StartOption{client.WithStartAt(time.Time{})}, client.StartOptions{},
			`client.Start("order"): WithStartAt(0001-01-01T00:00:00Z): zero time; omit the option to start now`},
		{"nil option", []client.StartOption{client.WithInstanceID("o-1"), nil}, client.StartOptions{},
			`client.Start("order"): option 1 is nil`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			_, err := client.Start(context.Background(), &r, order, "book", tt.opts...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				assert.Empty(t, r.starts, "nothing is started with a bad option")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []client.StartOptions{tt.want}, r.starts)
		})
	}
}

func TestStartNilOrchestrator(t *testing.T) {
	var o *orchestration.Orchestrator[string, string]
	_, err := client.Start(context.Background(), &recorder{}, o, "book")
	require.EqualError(t, err, "client.Start: nil orchestrator")
}

type runTimes struct {
	// Now is the orchestration's Context.Now in its first step.
	Now time.Time
	// Activity is the wall time at which its activity ran, after a
	// pause on a timer.
	Activity time.Time
}

const pause = 200 * time.Millisecond

// A scheduled start waits: the instance is Pending until its time, and
// neither its first step nor its activity happens before it; its
// Context.Now and so its timers start from that time. The checks
// hold however slow the machine is: they bound times from below only.
func TestStartAtDelaysTheStart(t *testing.T) {
	wallClock := activity.New("wall-clock", func(ctx context.Context, _ struct{}) (time.Time, error) { return time.Now(), nil })
	scheduled := orchestration.New("scheduled", func(ctx orchestration.Context, _ struct{}) (runTimes, error) {
		now := ctx.Now()
		if err := orchestration.Sleep(ctx, pause); err != nil {
			return runTimes{}, err
		}
		ran, err := orchestration.Call(ctx, wallClock, struct{}{}).Await(ctx)
		return runTimes{Now: now, Activity: ran}, err
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	eng, err := embedded.Open(ctx, filepath.Join(t.TempDir(), "app.db"), embedded.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(scheduled)
	w.RegisterActivities(wallClock)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() { _ = w.Stop(context.Background()) })

	at := time.Now().Add(300 * time.Millisecond)
	id, err := client.Start(ctx, eng, scheduled, struct{}{}, client.WithStartAt(at))
	require.NoError(t, err)
	st, err := eng.Status(ctx, id)
	require.NoError(t, err)
	if time.Now().Before(at) { // else the machine was too slow for this check to mean anything
		assert.Equal(t, client.StatusPending, st.RuntimeStatus, "before its start time")
	}
	assert.True(t, st.CreatedAt.Before(at), "created at once, at %s, before %s", st.CreatedAt, at)

	got, err := client.Result(ctx, eng, scheduled, id)
	require.NoError(t, err)
	assert.False(t, got.Activity.Before(at.Add(pause)), "the activity ran at %s, before the start time %s and the pause", got.Activity, at)
	assert.False(t, got.Now.Before(at), "Context.Now is %s in the first step, before the start time %s", got.Now, at)
}
