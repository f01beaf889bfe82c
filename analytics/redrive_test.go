package analytics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/analytics"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

// redrive is a flaky map activity: the items in bad fail until fixed.
type redrive struct {
	mu    sync.Mutex
	bad   map[int]bool
	fixed bool
	calls map[int]int
	ok    map[int]int // successful calls per item
}

func newRedrive(bad ...int) *redrive {
	r := &redrive{bad: map[int]bool{}, calls: map[int]int{}, ok: map[int]int{}}
	for _, b := range bad {
		r.bad[b] = true
	}
	return r
}

func (r *redrive) call(n int) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[n]++
	if r.bad[n] && !r.fixed {
		return 0, activity.NewError("Throttled", fmt.Sprintf("item %d: storage throttled", n))
	}
	r.ok[n]++
	return n * n, nil
}

// snapshot returns the calls and the successful calls per item.
func (r *redrive) snapshot() (calls, ok map[int]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.calls), maps.Clone(r.ok)
}

// recorded returns the items whose activity result the root instance's
// history holds.
func recorded(t *testing.T, env *orchestrationtest.Env, activity string) map[int]bool {
	items := map[int64]int{}
	done := map[int]bool{}
	for _, ev := range env.History() {
		switch {
		case ev.Type == orchestrationtest.ActivityScheduled && ev.Name == activity:
			var n int
			require.NoError(t, json.Unmarshal(ev.Payload, &n))
			items[ev.TaskID] = n
		case ev.Type == orchestrationtest.ActivityCompleted:
			if n, ok := items[ev.TaskID]; ok {
				done[n] = true
			}
		}
	}
	return done
}

// TestRedriveRunsOnlyTheFailedItems: a Map or MapReduce job that failed
// on some items (over its failure policy) is rewound once the cause is
// fixed, and only the failed items run again (Lithops #1248, #1289): the
// items recorded before the failure keep their results, and so do those
// whose calls the fail-fast job had stopped waiting for (their results,
// which came after the job failed, were kept for a rewind).
func TestRedriveRunsOnlyTheFailedItems(t *testing.T) {
	const n = 40
	mapJob := func(act *activity.Activity[int, int]) *orchestration.Orchestrator[int, int] {
		return orchestration.New("redrive-map", func(ctx orchestration.Context, n int) (int, error) {
			res, err := analytics.Map(ctx, act, items(n), analytics.TolerateFailures(1))
			if err != nil {
				return 0, err
			}
			total := 0
			for _, v := range res.Outputs {
				total += v
			}
			return total, nil
		})
	}
	mapReduceJob := func(act *activity.Activity[int, int]) *orchestration.Orchestrator[int, int] {
		return orchestration.New("redrive-mapreduce", func(ctx orchestration.Context, n int) (int, error) {
			res, err := analytics.MapReduce(ctx, act, sum, items(n), analytics.WithFanIn(4))
			if err != nil {
				return 0, err
			}
			return res.Value, nil
		})
	}
	tests := []struct {
		name string
		job  func(act *activity.Activity[int, int]) *orchestration.Orchestrator[int, int]
		bad  []int
	}{
		{"Map, bad items last", mapJob, []int{37, 38, 39}},
		{"Map, bad items spread", mapJob, []int{7, 19, 33}},
		{"MapReduce, bad item last", mapReduceJob, []int{39}},
		{"MapReduce, bad items spread", mapReduceJob, []int{7, 19, 33}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRedrive(tt.bad...)
			act := activity.New("redrive-square", func(_ context.Context, n int) (int, error) { return r.call(n) })
			job := tt.job(act)
			env := orchestrationtest.New(t)
			env.RegisterActivities(act, sum)
			_, err := orchestrationtest.Run(env, job, n)
			require.ErrorContains(t, err, "items failed, over the", "the job fails on its bad items")
			kept := recorded(t, env, act.Name())
			for _, bad := range tt.bad {
				require.False(t, kept[bad], "bad item %d has no result", bad)
			}

			r.mu.Lock()
			r.fixed = true
			r.mu.Unlock()
			got, err := orchestrationtest.Rewind(env, job, "storage back")
			require.NoError(t, err)
			assert.Equal(t, 20540, got, "the sum of the squares of 0..39")

			calls, ok := r.snapshot()
			for i := range n {
				assert.Equal(t, 1, ok[i], "item %d succeeds exactly once over both runs: no result is lost or run twice", i)
			}
			var again []int
			for i := range n {
				if calls[i] > 1 {
					again = append(again, i)
				}
			}
			assert.Subset(t, tt.bad, again, "only failed items run again (a bad item the failed job never reached runs once)")
			t.Logf("items called more than once: %v; %d had a result in the failed run's history, the others' came after it failed", again, len(kept))

			_, err = orchestrationtest.Rewind(env, job, "again")
			assert.ErrorIs(t, err, client.ErrNotRewindable, "a Completed job")
		})
	}
}
