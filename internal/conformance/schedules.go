package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// scheduled is what the schedule cases start: it returns its input.
var scheduled = orchestration.New("scheduled", func(ctx orchestration.Context, in string) (string, error) {
	return in, nil
})

// scheduledGate waits for the event "go": a run that stays live.
var scheduledGate = orchestration.New("scheduled-gate", func(ctx orchestration.Context, _ string) (int, error) {
	return orchestration.WaitEvent[int](ctx, "go", 0).Await(ctx)
})

func registerScheduled(w *worker.Worker) { w.RegisterOrchestrators(scheduled, scheduledGate) }

// scheduleID is unique across runs: Temporal's schedules live in the
// namespace, not in one test's task queue.
func scheduleID(name string) string { return fmt.Sprintf("%s-%d", name, time.Now().UnixNano()) }

func schedulesOf(t *testing.T, c client.Client) client.Schedules {
	t.Helper()
	sc, err := client.SchedulesOf(c)
	require.NoError(t, err)
	return sc
}

// describeUntil polls the schedule until cond holds of it.
func describeUntil(t *testing.T, ctx context.Context, sc client.Schedules, id, what string, cond func(*client.ScheduleInfo) bool) *client.ScheduleInfo {
	t.Helper()
	var info *client.ScheduleInfo
	eventually(t, what, func() bool {
		var err error
		info, err = sc.DescribeSchedule(ctx, id)
		require.NoError(t, err)
		return cond(info)
	})
	return info
}

// ownInstances returns the instances of a schedule, by id prefix.
func ownInstances(t *testing.T, ctx context.Context, c client.Client, name, id string) []*client.Status {
	t.Helper()
	all, err := c.List(ctx, client.Filter{Name: name})
	require.NoError(t, err)
	var out []*client.Status
	for _, st := range all {
		if strings.HasPrefix(st.InstanceID, id+"-") {
			out = append(out, st)
		}
	}
	return out
}

func testScheduleFiresN(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, registerScheduled)
	sc := schedulesOf(t, c)
	id := scheduleID("fires-n")
	require.NoError(t, client.CreateSchedule(ctx, c, id, client.Every(time.Second), scheduled, "tick", client.WithScheduleLimit(3)))
	t.Cleanup(func() { _ = sc.DeleteSchedule(context.Background(), id) })
	info := describeUntil(t, ctx, sc, id, "three slots", func(i *client.ScheduleInfo) bool { return i.Fired >= 3 })
	assert.Equal(t, 3, info.Fired)
	assert.Equal(t, 0, info.Remaining)
	assert.Empty(t, info.Next, "a schedule at its limit has no next slot")
	require.Len(t, info.Recent, 3)
	for _, iid := range info.Recent {
		require.True(t, strings.HasPrefix(iid, id+"-"), iid)
		slot, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(iid, id+"-"))
		require.NoError(t, err, "the instance id ends with its slot")
		assert.Zero(t, slot.UnixNano()%int64(time.Second), "slots of an interval are multiples of it since the epoch")
		out, err := client.Result(ctx, c, scheduled, iid)
		require.NoError(t, err)
		assert.Equal(t, "tick", out)
	}
	eventually(t, "three instances listed", func() bool { return len(ownInstances(t, ctx, c, scheduled.Name(), id)) >= 3 })
	assert.Len(t, ownInstances(t, ctx, c, scheduled.Name(), id), 3)
}

func testScheduleOverlap(t *testing.T, e Engine) {
	for _, tc := range []struct {
		policy client.OverlapPolicy
		check  func(t *testing.T, info *client.ScheduleInfo, live int)
	}{
		{client.OverlapSkip, func(t *testing.T, info *client.ScheduleInfo, live int) {
			assert.Equal(t, 1, info.Fired, "skip starts nothing while a run is live")
			assert.Equal(t, 1, live)
		}},
		{client.OverlapAllowAll, func(t *testing.T, info *client.ScheduleInfo, live int) {
			assert.Equal(t, 0, info.Skipped)
			assert.GreaterOrEqual(t, live, 3)
		}},
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			ctx := testContext(t)
			c := e.Start(t, registerScheduled)
			sc := schedulesOf(t, c)
			id := scheduleID("overlap-" + tc.policy.String())
			require.NoError(t, client.CreateSchedule(ctx, c, id, client.Every(time.Second), scheduledGate, "",
				client.WithOverlap(tc.policy)))
			t.Cleanup(func() { _ = sc.DeleteSchedule(context.Background(), id) })
			info := describeUntil(t, ctx, sc, id, "three slots handled", func(i *client.ScheduleInfo) bool { return i.Fired+i.Skipped >= 3 })
			require.NoError(t, sc.PauseSchedule(ctx, id, "checking"))
			info, err := sc.DescribeSchedule(ctx, id)
			require.NoError(t, err)
			live := 0
			for _, st := range ownInstances(t, ctx, c, scheduledGate.Name(), id) {
				if !st.RuntimeStatus.Terminal() {
					live++
					_ = c.Terminate(ctx, st.InstanceID, "test over")
				}
			}
			tc.check(t, info, live)
		})
	}
}

// testScheduleOverlapBufferAndCancel: buffer-one keeps one slot and
// starts it when the live run ends; cancel-previous terminates the live run
// (Temporal: cancels it) and starts the slot.
func testScheduleOverlapBufferAndCancel(t *testing.T, e Engine) {
	t.Run("buffer-one", func(t *testing.T) {
		ctx := testContext(t)
		c := e.Start(t, registerScheduled)
		sc := schedulesOf(t, c)
		id := scheduleID("overlap-buffer")
		require.NoError(t, client.CreateSchedule(ctx, c, id, client.Every(time.Second), scheduledGate, "",
			client.WithOverlap(client.OverlapBufferOne)))
		t.Cleanup(func() { _ = sc.DeleteSchedule(context.Background(), id) })
		info := describeUntil(t, ctx, sc, id, "a slot skipped with one buffered", func(i *client.ScheduleInfo) bool { return i.Fired >= 1 && i.Skipped >= 1 })
		require.Equal(t, 1, info.Fired, "nothing else starts while the first run is live")
		first := info.Recent[0]
		require.NoError(t, client.RaiseEvent(ctx, c, first, "go", 1))
		info = describeUntil(t, ctx, sc, id, "the buffered slot started", func(i *client.ScheduleInfo) bool { return i.Fired >= 2 })
		require.NoError(t, sc.PauseSchedule(ctx, id, ""))
		st, err := c.Wait(ctx, first)
		require.NoError(t, err)
		assert.Equal(t, client.StatusCompleted, st.RuntimeStatus)
		info, err = sc.DescribeSchedule(ctx, id)
		require.NoError(t, err)
		for _, iid := range info.Recent[1:] {
			_ = c.Terminate(ctx, iid, "test over")
		}
	})
	t.Run("cancel-previous", func(t *testing.T) {
		ctx := testContext(t)
		c := e.Start(t, registerScheduled)
		sc := schedulesOf(t, c)
		id := scheduleID("overlap-cancel")
		require.NoError(t, client.CreateSchedule(ctx, c, id, client.Every(time.Second), scheduledGate, "",
			client.WithOverlap(client.OverlapCancelPrevious)))
		t.Cleanup(func() { _ = sc.DeleteSchedule(context.Background(), id) })
		info := describeUntil(t, ctx, sc, id, "a second run", func(i *client.ScheduleInfo) bool { return i.Fired >= 2 })
		require.NoError(t, sc.PauseSchedule(ctx, id, ""))
		st, err := c.Wait(ctx, info.Recent[0])
		require.NoError(t, err)
		assert.Equal(t, client.StatusTerminated, st.RuntimeStatus, "the previous run is cancelled")
		info, err = sc.DescribeSchedule(ctx, id)
		require.NoError(t, err)
		for _, iid := range info.Recent {
			_ = c.Terminate(ctx, iid, "test over")
		}
	})
}

// testScheduleCancelsSuspended: cancel-previous ends a suspended run too,
// as Terminate does.
func testScheduleCancelsSuspended(t *testing.T, e Engine) {
	if why := e.Unsupported(FeatureSuspend); why != "" {
		t.Skip(why)
	}
	ctx := testContext(t)
	c := e.Start(t, registerScheduled)
	sc := schedulesOf(t, c)
	id := scheduleID("cancel-suspended")
	// Slots two seconds apart: the first run is suspended well before the
	// second slot (on the harness, time jumps there at once, and the run
	// may be cancelled before the suspend: the end is the same).
	require.NoError(t, client.CreateSchedule(ctx, c, id, client.Every(2*time.Second), scheduledGate, "",
		client.WithOverlap(client.OverlapCancelPrevious)))
	t.Cleanup(func() { _ = sc.DeleteSchedule(context.Background(), id) })
	first := describeUntil(t, ctx, sc, id, "a first run", func(i *client.ScheduleInfo) bool { return i.Fired >= 1 }).Recent[0]
	if err := c.Suspend(ctx, first, "held"); err != nil {
		require.ErrorIs(t, err, client.ErrNotRunning, "only if it was cancelled already")
	}
	describeUntil(t, ctx, sc, id, "a second slot", func(i *client.ScheduleInfo) bool { return i.Fired >= 2 })
	require.NoError(t, sc.PauseSchedule(ctx, id, ""))
	st, err := c.Wait(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, client.StatusTerminated, st.RuntimeStatus, "the suspended run is cancelled")
	info, err := sc.DescribeSchedule(ctx, id)
	require.NoError(t, err)
	for _, iid := range info.Recent {
		_ = c.Terminate(ctx, iid, "test over")
	}
}

func testSchedulePause(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, registerScheduled)
	sc := schedulesOf(t, c)
	id, clock := scheduleID("paused"), scheduleID("clock")
	require.NoError(t, client.CreateSchedule(ctx, c, id, client.Every(time.Second), scheduled, "p"))
	t.Cleanup(func() { _ = sc.DeleteSchedule(context.Background(), id) })
	describeUntil(t, ctx, sc, id, "a first slot", func(i *client.ScheduleInfo) bool { return i.Fired >= 1 })
	require.NoError(t, sc.PauseSchedule(ctx, id, "maintenance"))
	paused, err := sc.DescribeSchedule(ctx, id)
	require.NoError(t, err)
	assert.True(t, paused.Paused)
	assert.Equal(t, "maintenance", paused.Note)
	assert.Empty(t, paused.Next)
	// A second schedule measures time on the engine's own clock: once it
	// fired three times, two slots of the paused one have passed.
	require.NoError(t, client.CreateSchedule(ctx, c, clock, client.Every(time.Second), scheduled, "c", client.WithScheduleLimit(3)))
	t.Cleanup(func() { _ = sc.DeleteSchedule(context.Background(), clock) })
	describeUntil(t, ctx, sc, clock, "the clock schedule's slots", func(i *client.ScheduleInfo) bool { return i.Fired >= 3 })
	still, err := sc.DescribeSchedule(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, paused.Fired, still.Fired, "a paused schedule starts nothing")
	require.NoError(t, sc.UnpauseSchedule(ctx, id, "back"))
	describeUntil(t, ctx, sc, id, "a slot after unpause", func(i *client.ScheduleInfo) bool { return i.Fired > paused.Fired })
	require.NoError(t, sc.PauseSchedule(ctx, id, ""))
}

func testScheduleTrigger(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, registerScheduled)
	sc := schedulesOf(t, c)
	id := scheduleID("trigger")
	require.NoError(t, client.CreateSchedule(ctx, c, id, client.Cron("0 0 1 1 *"), scheduled, "now", client.WithPaused("triggered only"),
		client.WithTimeZone("Europe/Paris"), client.WithOverlap(client.OverlapBufferOne), client.WithCatchupWindow(time.Hour),
		client.WithJitter(time.Minute)))
	t.Cleanup(func() { _ = sc.DeleteSchedule(context.Background(), id) })
	info, err := sc.DescribeSchedule(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.ScheduleSpec{Cron: "0 0 1 1 *", TimeZone: "Europe/Paris", Jitter: time.Minute}, info.Spec, "the definition as given")
	assert.Equal(t, scheduled.Name(), info.Orchestrator)
	assert.JSONEq(t, `"now"`, string(info.Input))
	assert.Equal(t, client.OverlapBufferOne, info.Overlap)
	assert.Equal(t, time.Hour, info.CatchupWindow)
	assert.True(t, info.Paused)
	assert.Equal(t, "triggered only", info.Note)
	assert.Empty(t, info.Next, "paused")
	list, err := sc.ListSchedules(ctx)
	require.NoError(t, err)
	assert.True(t, hasSchedule(list, id))
	iid, err := sc.TriggerSchedule(ctx, id)
	require.NoError(t, err, "a trigger starts a paused schedule too")
	require.True(t, strings.HasPrefix(iid, id+"-"), iid)
	out, err := client.Result(ctx, c, scheduled, iid)
	require.NoError(t, err)
	assert.Equal(t, "now", out)
	describeUntil(t, ctx, sc, id, "the trigger counted", func(i *client.ScheduleInfo) bool { return i.Fired == 1 })
}

func testScheduleBackfill(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, registerScheduled)
	sc := schedulesOf(t, c)
	id := scheduleID("backfill")
	require.NoError(t, client.CreateSchedule(ctx, c, id, client.Cron("0 * * * *"), scheduled, "bf", client.WithPaused("backfill only")))
	t.Cleanup(func() { _ = sc.DeleteSchedule(context.Background(), id) })
	end := time.Now().UTC().Truncate(time.Hour).Add(-24 * time.Hour)
	start := end.Add(-3 * time.Hour)
	_, err := sc.BackfillSchedule(ctx, id, start, end)
	require.NoError(t, err)
	want := []string{id + "-" + start.Format(time.RFC3339), id + "-" + start.Add(time.Hour).Format(time.RFC3339),
		id + "-" + start.Add(2*time.Hour).Format(time.RFC3339)}
	for _, iid := range want {
		eventually(t, "backfilled "+iid, func() bool { _, err := c.Status(ctx, iid); return err == nil })
		out, err := client.Result(ctx, c, scheduled, iid)
		require.NoError(t, err)
		assert.Equal(t, "bf", out)
	}
	// Again over a wider range: only the new slot starts.
	got, err := sc.BackfillSchedule(ctx, id, start.Add(-time.Hour), end)
	require.NoError(t, err)
	require.Equal(t, []string{id + "-" + start.Add(-time.Hour).Format(time.RFC3339)}, got)
	eventually(t, "backfilled "+got[0], func() bool { _, err := c.Status(ctx, got[0]); return err == nil })
	_, err = client.Result(ctx, c, scheduled, got[0])
	require.NoError(t, err)
	// (Temporal's List is eventually consistent.)
	eventually(t, "four instances listed", func() bool { return len(ownInstances(t, ctx, c, scheduled.Name(), id)) >= 4 })
	assert.Len(t, ownInstances(t, ctx, c, scheduled.Name(), id), 4, "each slot once")
}

func testScheduleDelete(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, registerScheduled)
	sc := schedulesOf(t, c)
	id := scheduleID("delete")
	require.NoError(t, client.CreateSchedule(ctx, c, id, client.Every(time.Hour), scheduled, "d"))
	list, err := sc.ListSchedules(ctx)
	require.NoError(t, err)
	assert.True(t, hasSchedule(list, id))
	require.NoError(t, sc.DeleteSchedule(ctx, id))
	_, err = sc.DescribeSchedule(ctx, id)
	require.ErrorIs(t, err, client.ErrScheduleNotFound)
	list, err = sc.ListSchedules(ctx)
	require.NoError(t, err)
	assert.False(t, hasSchedule(list, id))
}

func hasSchedule(list []*client.ScheduleInfo, id string) bool {
	for _, s := range list {
		if s.ID == id {
			return true
		}
	}
	return false
}

func testScheduleBadInput(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, registerScheduled)
	sc := schedulesOf(t, c)
	unknown := scheduleID("no-such-schedule")
	for name, op := range map[string]func() error{
		"describe": func() error { _, err := sc.DescribeSchedule(ctx, unknown); return err },
		"pause":    func() error { return sc.PauseSchedule(ctx, unknown, "") },
		"unpause":  func() error { return sc.UnpauseSchedule(ctx, unknown, "") },
		"trigger":  func() error { _, err := sc.TriggerSchedule(ctx, unknown); return err },
		"backfill": func() error {
			_, err := sc.BackfillSchedule(ctx, unknown, time.Now().Add(-time.Hour), time.Now())
			return err
		},
		"delete": func() error { return sc.DeleteSchedule(ctx, unknown) },
	} {
		err := op()
		require.ErrorIs(t, err, client.ErrScheduleNotFound, name)
		assert.Contains(t, err.Error(), unknown, name)
	}
	bad := []struct {
		name string
		spec client.ScheduleSpec
		opts []client.ScheduleOption
		says string
	}{
		{"invalid cron", client.Cron("61 * * * *"), nil, `"61 * * * *"`},
		{"cron of six fields", client.Cron("* * * * * *"), nil, "* * * * * *"},
		{"zero interval", client.Every(0), nil, "neither"},
		{"negative interval", client.Every(-time.Second), nil, "-1s"},
		{"both", client.ScheduleSpec{Cron: "@daily", Every: time.Hour}, nil, "both"},
		{"unknown time zone", client.ScheduleSpec{Cron: "@daily", TimeZone: "Mars/Olympus"}, nil, "Mars/Olympus"},
		{"limit of 0", client.Every(time.Hour), []client.ScheduleOption{client.WithScheduleLimit(0)}, "WithScheduleLimit(0)"},
		{"negative catch-up", client.Every(time.Hour), []client.ScheduleOption{client.WithCatchupWindow(-time.Second)}, "WithCatchupWindow(-1s)"},
	}
	for _, b := range bad {
		id := scheduleID("bad")
		err := client.CreateSchedule(ctx, c, id, b.spec, scheduled, "x", b.opts...)
		require.ErrorIs(t, err, client.ErrInvalidSchedule, b.name)
		assert.Contains(t, err.Error(), b.says, b.name)
		_, err = sc.DescribeSchedule(ctx, id)
		require.ErrorIs(t, err, client.ErrScheduleNotFound, "%s: nothing half-created", b.name)
	}
	id := scheduleID("dup")
	require.NoError(t, client.CreateSchedule(ctx, c, id, client.Every(time.Hour), scheduled, "x", client.WithPaused("")))
	t.Cleanup(func() { _ = sc.DeleteSchedule(context.Background(), id) })
	err := client.CreateSchedule(ctx, c, id, client.Every(time.Hour), scheduled, "x")
	require.True(t, errors.Is(err, client.ErrScheduleExists), "a taken id: %v", err)
}
