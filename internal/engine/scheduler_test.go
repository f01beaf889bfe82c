package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/schedule"
)

func TestAdvance(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	id := func(m int) string { return schedule.InstanceID("s", t0.Add(time.Duration(m)*time.Minute)) }
	for _, tc := range []struct {
		name     string
		def      client.ScheduleOptions
		state    func(st *schedState)
		now      time.Duration // after t0
		lastLive bool
		start    []string
		term     string
		fired    int
		skipped  int
		missed   int
		buffered time.Time
		next     time.Time
	}{
		{name: "nothing due", now: 30 * time.Second, next: t0.Add(time.Minute)},
		{name: "one due", now: time.Minute, start: []string{id(1)}, fired: 1, next: t0.Add(2 * time.Minute)},
		{name: "catch-up within the window", now: 3*time.Minute + time.Second, def: client.ScheduleOptions{Overlap: client.OverlapAllowAll, CatchupWindow: 5 * time.Minute},
			start: []string{id(1), id(2), id(3)}, fired: 3, next: t0.Add(4 * time.Minute)},
		{name: "older than the window is missed", now: 10 * time.Minute, def: client.ScheduleOptions{Overlap: client.OverlapAllowAll, CatchupWindow: 2 * time.Minute},
			start: []string{id(8), id(9), id(10)}, fired: 3, missed: 7, next: t0.Add(11 * time.Minute)},
		{name: "skip while live", now: 2 * time.Minute, lastLive: true, skipped: 2, next: t0.Add(3 * time.Minute)},
		{name: "skip after a catch-up start", now: 3 * time.Minute, start: []string{id(1)}, fired: 1, skipped: 2, next: t0.Add(4 * time.Minute)},
		{name: "buffer one", now: 3 * time.Minute, lastLive: true, def: client.ScheduleOptions{Overlap: client.OverlapBufferOne},
			skipped: 2, buffered: t0.Add(time.Minute), next: t0.Add(4 * time.Minute)},
		{name: "buffered starts once the last ended", now: 30 * time.Second, def: client.ScheduleOptions{Overlap: client.OverlapBufferOne},
			state: func(st *schedState) { st.Buffered = t0.Add(-time.Minute) }, start: []string{id(-1)}, fired: 1, next: t0.Add(time.Minute)},
		{name: "cancel previous", now: time.Minute, lastLive: true, def: client.ScheduleOptions{Overlap: client.OverlapCancelPrevious},
			state: func(st *schedState) { st.Last = "old" }, start: []string{id(1)}, term: "old", fired: 1, next: t0.Add(2 * time.Minute)},
		{name: "cancel previous catching up starts the last only", now: 3 * time.Minute, def: client.ScheduleOptions{Overlap: client.OverlapCancelPrevious},
			start: []string{id(3)}, fired: 1, skipped: 2, next: t0.Add(4 * time.Minute)},
		{name: "limit", now: 5 * time.Minute, def: client.ScheduleOptions{Overlap: client.OverlapAllowAll, Limit: 2},
			state: func(st *schedState) { st.Remaining = 2 }, start: []string{id(1), id(2)}, fired: 2},
		{name: "paused", now: 5 * time.Minute, def: client.ScheduleOptions{Paused: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			def := tc.def
			def.ID, def.Orchestrator, def.Spec = "s", "o", client.Every(time.Minute)
			if def.CatchupWindow == 0 {
				def.CatchupWindow = time.Hour
			}
			spec, err := schedule.Validate(def)
			require.NoError(t, err)
			st := &schedState{Def: schedDef{Spec: def.Spec, Orchestrator: def.Orchestrator, Overlap: def.Overlap,
				CatchupWindow: def.CatchupWindow, Paused: def.Paused, Limit: def.Limit}, Cursor: t0}
			if tc.state != nil {
				tc.state(st)
			}
			p := advance("s", st, spec, t0.Add(tc.now), tc.lastLive)
			assert.Equal(t, tc.start, p.start, "started")
			assert.Equal(t, tc.term, p.terminate, "terminated")
			assert.Equal(t, tc.fired, st.Fired, "fired")
			assert.Equal(t, tc.skipped, st.Skipped, "skipped")
			assert.Equal(t, tc.missed, st.Missed, "missed")
			assert.Equal(t, tc.buffered, st.Buffered, "buffered")
			assert.Equal(t, tc.next, p.next, "next")
			if len(tc.start) > 0 {
				assert.Equal(t, tc.start[len(tc.start)-1], st.Last)
			}
		})
	}
}
