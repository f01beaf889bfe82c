package replay

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ev builds a history from (type, task id) pairs, indexed in order.
func hist(evs ...Event) []Event {
	for i := range evs {
		evs[i].Index = int64(i)
	}
	return evs
}

func e(t EventType, task int64) Event { return Event{Type: t, TaskID: task} }

func types(evs []Event) []EventType {
	var out []EventType
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func tasks(evs []Event) []int64 {
	var out []int64
	for _, e := range evs {
		out = append(out, e.TaskID)
	}
	return out
}

func TestPlanRewind(t *testing.T) {
	start := Event{Type: OrchestrationStarted, RunID: "old"}
	tests := []struct {
		name       string
		hist       []Event
		late       []Event
		kept       int // events of History
		carried    []EventType
		activities []int64
		timers     []int64
		children   []int64
		abandoned  []string
		restart    bool
		done       int
	}{
		{name: "a chain whose 3rd step failed: cut at the failure",
			hist: hist(start, e(ActivityScheduled, 1), e(ActivityCompleted, 1), e(ActivityScheduled, 2), e(ActivityCompleted, 2),
				e(ActivityScheduled, 3), e(ActivityFailed, 3), e(OrchestrationFailed, 0)),
			kept: 6, activities: []int64{3}, done: 2},
		{name: "a fan-out: results after the first failure are carried, later failures go",
			hist: hist(start, e(ActivityScheduled, 1), e(ActivityScheduled, 2), e(ActivityScheduled, 3), e(ActivityCompleted, 1),
				e(ActivityFailed, 2), e(ActivityCompleted, 3), e(ActivityFailed, 1), Event{Type: EventRaised, Name: "x"}, e(OrchestrationFailed, 0)),
			kept: 5, carried: []EventType{ActivityCompleted, EventRaised}, activities: []int64{2}, done: 2},
		{name: "the code failed by itself: the fatal step's event is carried",
			hist: hist(start, e(ActivityScheduled, 1), e(ActivityCompleted, 1), e(ActivityScheduled, 2), e(OrchestrationFailed, 0)),
			kept: 2, carried: []EventType{ActivityCompleted}, activities: nil, done: 1},
		{name: "the code failed at once: a restart",
			hist: hist(start, e(OrchestrationFailed, 0)), restart: true, carried: []EventType{OrchestrationStarted}},
		{name: "terminated: cut at the request; a timer and a child without results; a child started after the cut goes",
			hist: hist(start, e(TimerCreated, 1), Event{Type: SubOrchestrationScheduled, TaskID: 2, InstanceID: "c2"},
				e(TerminationRequested, 0), Event{Type: SubOrchestrationScheduled, TaskID: 3, InstanceID: "c3"},
				e(SubOrchestrationFailed, 2), e(OrchestrationTerminated, 0)),
			kept: 3, timers: []int64{1}, children: []int64{2}, abandoned: []string{"c3"}},
		{name: "late results of the run are carried, another run's are not",
			hist: hist(start, e(ActivityScheduled, 1), e(ActivityScheduled, 2), e(ActivityScheduled, 3), e(ActivityFailed, 1), e(OrchestrationFailed, 0)),
			late: []Event{{Type: ActivityCompleted, TaskID: 2, RunID: "old"}, {Type: ActivityCompleted, TaskID: 3, RunID: "other"}},
			kept: 4, carried: []EventType{ActivityCompleted}, activities: []int64{1, 3}, done: 1},
		{name: "a result of a step scheduled after the cut goes",
			hist: hist(start, e(ActivityScheduled, 1), e(ActivityFailed, 1), e(ActivityScheduled, 2), e(ActivityCompleted, 2), e(OrchestrationFailed, 0)),
			kept: 2, activities: []int64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlanRewind(tt.hist, tt.late, "new")
			require.NoError(t, err)
			assert.Equal(t, tt.restart, p.Restart)
			assert.Len(t, p.History, tt.kept)
			assert.Equal(t, tt.carried, types(p.Carried))
			assert.Equal(t, tt.activities, tasks(p.Activities))
			assert.Equal(t, tt.timers, tasks(p.Timers))
			assert.Equal(t, tt.children, tasks(p.Children))
			assert.Equal(t, tt.abandoned, p.Abandoned)
			assert.Equal(t, tt.done, p.Done)
			if len(p.History) > 0 {
				assert.Equal(t, "new", p.History[0].RunID, "a new run id")
			} else {
				assert.Equal(t, "new", p.Carried[0].RunID, "a new run id")
			}
			assert.Equal(t, "old", tt.hist[0].RunID, "the input is not changed")
		})
	}
}

func TestPlanRewindRefuses(t *testing.T) {
	start := Event{Type: OrchestrationStarted}
	for name, h := range map[string][]Event{
		"completed": hist(start, e(ActivityScheduled, 1), e(ActivityCompleted, 1), e(OrchestrationCompleted, 0)),
		"running":   hist(start, e(ActivityScheduled, 1)),
		"empty":     nil,
		"no start":  hist(e(ActivityScheduled, 1), e(ActivityFailed, 1), e(OrchestrationFailed, 0)),
		"continued": hist(start, e(OrchestrationContinuedAsNew, 0)),
	} {
		_, err := PlanRewind(h, nil, "new")
		assert.ErrorIs(t, err, ErrNotRewindable, name)
	}
}
