package soak

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/replay"
)

// isStep reports the event types that record a numbered step (see the
// sequencing rules of internal/core): every step has exactly one.
func isStep(t replay.EventType) bool {
	switch t {
	case replay.ActivityScheduled, replay.TimerCreated, replay.SubOrchestrationScheduled, replay.SideEffectRecorded:
		return true
	}
	return false
}

// resultOf is the step event type a result event answers ("" for events
// that answer no step).
func resultOf(t replay.EventType) replay.EventType {
	switch t {
	case replay.ActivityCompleted, replay.ActivityFailed:
		return replay.ActivityScheduled
	case replay.TimerFired:
		return replay.TimerCreated
	case replay.SubOrchestrationCompleted, replay.SubOrchestrationFailed:
		return replay.SubOrchestrationScheduled
	}
	return ""
}

// endOf is the history event that ends a run with status s.
var endOf = map[client.RuntimeStatus]replay.EventType{
	client.StatusCompleted:  replay.OrchestrationCompleted,
	client.StatusFailed:     replay.OrchestrationFailed,
	client.StatusTerminated: replay.OrchestrationTerminated,
}

// checkHistory checks the last run's history of an instance: indexes
// without gaps, one start first, one end last (matching the status),
// steps numbered 1..n once each, every result answering a step before
// it, every activity completed exactly once (a terminated run may leave
// some without), each completion backed by a run of that attempt on that
// input in the execution log, retry attempts that never go back, timers
// created = fired and children answered once.
func checkHistory(st *client.Status, h replay.History, ev *execView, rep *Report, fail func(string, ...any)) {
	events := h.Events
	rep.HistoryEvents += len(events)
	herr := func(format string, args ...any) {
		rep.HistoryErrors++
		fail("history: "+format, args...)
	}
	if len(events) == 0 {
		herr("empty")
		return
	}
	for i, e := range events {
		if e.Index != int64(i) {
			herr("event %d has index %d: a gap or a reordering", i, e.Index)
			break
		}
	}
	if events[0].Type != replay.OrchestrationStarted {
		herr("begins with %s, not %s", events[0].Type, replay.OrchestrationStarted)
	}
	rep.EventsCarried += len(events[0].Carried)
	var ends []int
	for i, e := range events {
		if i > 0 && e.Type == replay.OrchestrationStarted {
			herr("a second %s at event %d", e.Type, i)
		}
		if e.Type.Terminal() {
			ends = append(ends, i)
		}
	}
	terminated := st.RuntimeStatus == client.StatusTerminated
	ended := st.RuntimeStatus.Terminal()
	switch want := endOf[st.RuntimeStatus]; {
	case !ended && len(ends) > 0:
		herr("%s at event %d, but the instance is %s", events[ends[0]].Type, ends[0], st.RuntimeStatus)
	case ended && len(ends) != 1:
		herr("%d end events (want one %s)", len(ends), want)
	case ended && (ends[0] != len(events)-1 || events[ends[0]].Type != want):
		herr("ends with %s at event %d of %d, but the instance is %s", events[ends[0]].Type, ends[0], len(events), st.RuntimeStatus)
	}

	steps := map[int64]int{} // step number -> index of its event
	for i, e := range events {
		if !isStep(e.Type) {
			continue
		}
		if j, dup := steps[e.TaskID]; dup {
			herr("step %d recorded twice (events %d and %d)", e.TaskID, j, i)
			continue
		}
		steps[e.TaskID] = i
	}
	for k := int64(1); k <= int64(len(steps)); k++ {
		if _, ok := steps[k]; !ok {
			herr("the %d steps are not numbered 1..%d: step %d is missing", len(steps), len(steps), k)
			break
		}
	}
	results := map[int64][]int{} // step number -> indexes of its results
	for i, e := range events {
		want := resultOf(e.Type)
		if want == "" {
			continue
		}
		j, ok := steps[e.TaskID]
		if !ok || events[j].Type != want {
			herr("event %d: %s of step %d, which is not a %s", i, e.Type, e.TaskID, want)
			continue
		}
		if j > i {
			herr("event %d: %s of step %d before the step (event %d)", i, e.Type, e.TaskID, j)
		}
		results[e.TaskID] = append(results[e.TaskID], i)
	}

	cleanedUp := false
	for _, task := range slices.Sorted(maps.Keys(steps)) {
		e := events[steps[task]]
		rs := results[task]
		switch e.Type {
		case replay.ActivityScheduled:
			rep.ActivitiesScheduled++
			rep.ActivitiesCompleted += len(rs)
			switch {
			case len(rs) > 1:
				rep.Doubled++
				fail("activity %q (step %d) completed %d times (events %v)", e.Name, task, len(rs), rs)
			case len(rs) == 0 && terminated:
				rep.Abandoned++
			case len(rs) == 0 && ended:
				rep.Lost++
				fail("activity %q (step %d) scheduled, never completed, in a run that ended", e.Name, task)
			}
			if len(rs) > 0 {
				checkRuns(st.InstanceID, e, events[rs[0]], ev, rep, fail)
				cleanedUp = cleanedUp || (e.Name == Cleanup.Name() && events[rs[0]].Type == replay.ActivityCompleted)
			}
		case replay.TimerCreated:
			rep.TimersCreated++
			rep.TimersFired += len(rs)
			switch {
			case len(rs) > 1:
				rep.Doubled++
				fail("timer (step %d) fired %d times (events %v)", task, len(rs), rs)
			case len(rs) == 0 && terminated:
				rep.TimersAbandoned++
			case len(rs) == 0 && ended:
				rep.Lost++
				fail("timer (step %d) created, never fired, in a run that ended", task)
			}
		case replay.SubOrchestrationScheduled:
			switch {
			case len(rs) > 1:
				rep.Doubled++
				fail("sub-orchestration %s (step %d) answered %d times (events %v)", e.InstanceID, task, len(rs), rs)
			case len(rs) == 0 && ended && !terminated:
				rep.Lost++
				fail("sub-orchestration %s (step %d) never answered, in a run that ended", e.InstanceID, task)
			}
		}
	}
	if st.Name == Terminate.Name() && terminated && !cleanedUp {
		fail("terminated without its clean-up under WithoutCancel (no completed %s)", Cleanup.Name())
	}
}

// checkRuns checks an activity's result against the execution log: a
// result of the activity's own (not a cancellation or an interruption
// that the engine recorded) needs a run of that attempt on that input;
// the attempts of the task must never go back (retry state is durable)
// nor pass the retry policy's MaxAttempts.
func checkRuns(instance string, sched, res replay.Event, ev *execView, rep *Report, fail func(string, ...any)) {
	var w Work
	if err := json.Unmarshal(sched.Payload, &w); err != nil {
		fail("activity %q (step %d): input %s does not decode: %v", sched.Name, sched.TaskID, sched.Payload, err)
		return
	}
	d := digest(w)
	own := res.Type == replay.ActivityCompleted || (res.Failure != nil && res.Failure.Type == fatalType)
	if own && ev.runs[runKey{instance, sched.TaskID, res.Attempt, d}] == 0 {
		rep.CompletionsWithoutRun++
		fail("activity %q (step %d): a result of attempt %d, but no run of that attempt on that input in the execution log",
			sched.Name, sched.TaskID, res.Attempt)
	}
	as := ev.attempts[runKey{instance: instance, task: sched.TaskID, digest: d}]
	if !slices.IsSorted(as) {
		fail("activity %q (step %d): attempts went back: they ran in the order %v", sched.Name, sched.TaskID, as)
	}
	if sched.Name == Flaky.Name() && len(as) > 0 && slices.Max(as) > retryPolicy.MaxAttempts {
		fail("activity %q (step %d): attempt %d ran, over MaxAttempts %d", sched.Name, sched.TaskID, slices.Max(as), retryPolicy.MaxAttempts)
	}
}
