package engine

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/store"
	"github.com/cloudbutton/cloudbutton/internal/store/memstore"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// stepClock is a clock moved by hand; its timers never fire.
type stepClock struct{ now atomic.Int64 }

func (c *stepClock) Now() time.Time                        { return time.Unix(0, c.now.Load()).UTC() }
func (c *stepClock) AfterFunc(time.Duration, func()) Timer { return noTimer{} }
func (c *stepClock) add(d time.Duration)                   { c.now.Add(int64(d)) }
func (c *stepClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

type noTimer struct{}

func (noTimer) Stop() bool { return true }

// TestSchedulersDoNotDoubleFire runs two schedulers over one store at once,
// as two workers would if the worker lock let them: the versioned write
// lets one start each slot, and the other redo its look from a fresh read.
func TestSchedulersDoNotDoubleFire(t *testing.T) {
	clock := &stepClock{}
	clock.now.Store(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	st := memstore.New(clock.Now)
	quiet := slog.New(slog.DiscardHandler)
	a := New(st, Options{Clock: clock, Logger: quiet})
	b := New(st, Options{Clock: clock, Logger: quiet})
	t.Cleanup(func() { _ = a.Close() })
	ctx := context.Background()
	require.NoError(t, a.CreateScheduleRaw(ctx, client.ScheduleOptions{ID: "s", Orchestrator: "o", Spec: client.Every(time.Second),
		Overlap: client.OverlapAllowAll, CatchupWindow: time.Hour}))
	scheds := []*scheduler{
		{e: a, ss: st, work: a.newWork(), log: quiet, ctx: ctx},
		{e: b, ss: st, work: b.newWork(), log: quiet, ctx: ctx},
	}
	const slots = 200
	for range slots {
		clock.add(time.Second)
		var wg sync.WaitGroup
		for _, s := range scheds {
			wg.Go(func() { s.pass() })
		}
		wg.Wait()
	}
	info, err := a.DescribeSchedule(ctx, "s")
	require.NoError(t, err)
	assert.Equal(t, slots, info.Fired)
	ins, err := st.List(ctx, store.Filter{Name: "o"})
	require.NoError(t, err)
	require.Len(t, ins, slots, "one instance per slot")
	seen := map[string]bool{}
	for _, in := range ins {
		require.True(t, strings.HasPrefix(in.ID, "s-"))
		require.False(t, seen[in.ID])
		seen[in.ID] = true
	}
}

// TestStaleFireLosesToPause: a scheduler that read the schedule before a
// client paused it writes nothing from that read: its write conflicts, it
// reads again, and the paused schedule starts nothing.
func TestStaleFireLosesToPause(t *testing.T) {
	clock := &stepClock{}
	clock.now.Store(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	st := memstore.New(clock.Now)
	quiet := slog.New(slog.DiscardHandler)
	e := New(st, Options{Clock: clock, Logger: quiet})
	t.Cleanup(func() { _ = e.Close() })
	ctx := context.Background()
	require.NoError(t, e.CreateScheduleRaw(ctx, client.ScheduleOptions{ID: "s", Orchestrator: "o", Spec: client.Every(time.Second)}))
	s := &scheduler{e: e, ss: st, work: e.newWork(), log: quiet, ctx: ctx}
	stale, err := st.Schedule(ctx, "s")
	require.NoError(t, err)
	require.NoError(t, e.PauseSchedule(ctx, "s", "maintenance"))
	clock.add(5 * time.Second)
	_, _, _, err = s.fire(stale)
	require.NoError(t, err)
	info, err := e.DescribeSchedule(ctx, "s")
	require.NoError(t, err)
	assert.True(t, info.Paused, "the pause stands")
	assert.Zero(t, info.Fired)
	ins, err := st.List(ctx, store.Filter{})
	require.NoError(t, err)
	assert.Empty(t, ins)
}

// TestCatchUpAfterDowntime: slots that passed while no worker ran start
// when one starts if they are within the catch-up window; older ones are
// missed and counted.
func TestCatchUpAfterDowntime(t *testing.T) {
	clock := &stepClock{}
	clock.now.Store(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	st := memstore.New(clock.Now)
	quiet := slog.New(slog.DiscardHandler)
	e := New(st, Options{Clock: clock, Logger: quiet})
	t.Cleanup(func() { _ = e.Close() })
	ctx := context.Background()
	require.NoError(t, e.CreateScheduleRaw(ctx, client.ScheduleOptions{ID: "s", Orchestrator: tick.Name(), Spec: client.Every(time.Minute),
		Overlap: client.OverlapAllowAll, CatchupWindow: 3 * time.Minute}))
	clock.add(10 * time.Minute) // no worker meanwhile
	w := worker.New(e, worker.Options{Logger: quiet})
	w.RegisterOrchestrators(tick)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() { _ = w.Stop(context.Background()) })
	var info *client.ScheduleInfo
	require.Eventually(t, func() bool {
		var err error
		info, err = e.DescribeSchedule(ctx, "s")
		require.NoError(t, err)
		return info.Fired > 0
	}, time.Minute, time.Millisecond, "the worker's first look")
	assert.Equal(t, 4, info.Fired, "slots 7 to 10 are within 3 minutes of 10:10")
	assert.Equal(t, 6, info.Missed, "slots 1 to 6 are older")
	assert.Equal(t, []string{"s-2026-03-01T10:07:00Z", "s-2026-03-01T10:08:00Z", "s-2026-03-01T10:09:00Z", "s-2026-03-01T10:10:00Z"}, info.Recent)
}

var tick = orchestration.New("tick", func(ctx orchestration.Context, _ struct{}) (int, error) { return 1, nil })
