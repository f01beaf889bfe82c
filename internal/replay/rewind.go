package replay

import (
	"errors"
	"fmt"
	"slices"
)

// OrchestrationRewound is the event that restarts a rewound run (see
// PlanRewind). It is incoming: delivered by the engine, it records itself
// (Name is the reason) and then delivers, in order, the events it carries
// (results that stay valid across the rewind), each recorded after it.
// On replay it carries nothing and does nothing.
const OrchestrationRewound EventType = "OrchestrationRewound"

// ErrNotRewindable is returned by PlanRewind for a history that did not
// end in a failure or a termination.
var ErrNotRewindable = errors.New("replay: the run did not fail and was not terminated")

// RewindPlan is how a rewind restarts a failed or terminated run from its
// failed step, keeping the results of the steps that succeeded.
//
// The history is cut at the first event that failed the run: the first
// ActivityFailed, SubOrchestrationFailed or TerminationRequested, or, for
// a run whose code returned an error (or panicked, or diverged from
// history) without one, the incoming event that the fatal step applied.
// Everything from the cut on goes, except the incoming events that stay
// valid (results of actions scheduled before the cut, and external
// events), which the OrchestrationRewound event carries: the code sees
// them again, live. Since a history's steps are recorded whole (an
// incoming event, then what the code did in response), the kept prefix
// ends with a whole step and replays as it did.
type RewindPlan struct {
	// History is the kept prefix, its start carrying the new run id: the
	// attempts that run again have idempotency keys of their own.
	History []Event
	// Carried are the incoming events after the cut that stay valid, in
	// their order; Rewound carries them (Carried).
	Carried []Event
	// Restart is set when the cut is the run's start (its code failed at
	// once): History is empty and Carried holds the start alone.
	Restart bool
	// Activities are the ActivityScheduled events of History that have no
	// result in History or Carried: they run again, from attempt 1.
	Activities []Event
	// Timers are the TimerCreated events of History that have not fired
	// in History or Carried: they fire again at their time.
	Timers []Event
	// Children are the SubOrchestrationScheduled events of History that
	// have no result in History or Carried: the engine rewinds a failed or
	// terminated child, and carries the result of a completed one.
	Children []Event
	// Abandoned are the ids of the sub-orchestrations scheduled after the
	// cut: the code starts them again if it still calls them, so the old
	// ones go.
	Abandoned []string
	// Done and Total count the activities of History and Carried (the
	// instance's progress counters).
	Done, Total int
	// RunID is the kept run's new id.
	RunID string
}

// PlanRewind plans the rewind of a run whose history hist ended failed or
// terminated; the kept run gets runID. Late are the results of the run's
// activities that came after it ended (their RunID says whose: those of
// another run are left out); they count as recorded after the end.
func PlanRewind(hist, late []Event, runID string) (*RewindPlan, error) {
	if len(hist) == 0 || hist[0].Type != OrchestrationStarted {
		return nil, fmt.Errorf("%w: its history does not begin with %s", ErrNotRewindable, OrchestrationStarted)
	}
	cut, carryCut := -1, false
	for i := range hist {
		switch t := hist[i].Type; {
		case t == ActivityFailed || t == SubOrchestrationFailed || t == TerminationRequested:
			cut = i
		case t == OrchestrationFailed || t == OrchestrationTerminated:
			// The code failed by itself: cut at the incoming event its
			// fatal step applied, which is carried again.
			cut, carryCut = i-1, true
			for cut > 0 && !hist[cut].Type.Incoming() {
				cut--
			}
		case t.Terminal():
			return nil, fmt.Errorf("%w: it ended %s", ErrNotRewindable, t)
		}
		if cut >= 0 {
			break
		}
	}
	if cut < 0 {
		return nil, fmt.Errorf("%w: its history has no end", ErrNotRewindable)
	}
	p := &RewindPlan{RunID: runID}
	if cut == 0 {
		start := hist[0]
		start.RunID, start.Index = runID, 0
		p.Restart, p.Carried = true, []Event{start}
		return p, nil
	}
	p.History = append([]Event(nil), hist[:cut]...)
	p.History[0].RunID = runID
	scheduled := map[int64]*Event{}
	resolved := map[int64]bool{}
	for i := range p.History {
		e := &p.History[i]
		switch {
		case e.Type == ActivityScheduled || e.Type == TimerCreated || e.Type == SubOrchestrationScheduled:
			scheduled[e.TaskID] = e
		case e.Type.Incoming() && e.TaskID > 0:
			resolved[e.TaskID] = true
		}
	}
	tail := slices.Clone(hist[cut:])
	for _, e := range late {
		if e.Type == ActivityCompleted && e.RunID == hist[0].RunID {
			e.RunID = ""
			tail = append(tail, e)
		}
	}
	for i, e := range tail {
		switch {
		case i == 0 && carryCut, e.Type == EventRaised:
		case e.Type == ActivityCompleted || e.Type == TimerFired || e.Type == SubOrchestrationCompleted:
			if scheduled[e.TaskID] == nil || resolved[e.TaskID] {
				continue // of an action after the cut, or a duplicate
			}
		case e.Type == SubOrchestrationScheduled:
			p.Abandoned = append(p.Abandoned, e.InstanceID)
			continue
		default:
			continue
		}
		if e.TaskID > 0 {
			resolved[e.TaskID] = true
		}
		e.Index = 0
		p.Carried = append(p.Carried, e)
	}
	for i := range p.History {
		e := p.History[i]
		if e.Type == ActivityScheduled {
			p.Total++
		}
		if e.Type == ActivityCompleted || e.Type == ActivityFailed {
			p.Done++
		}
		if !resolved[e.TaskID] {
			switch e.Type {
			case ActivityScheduled:
				p.Activities = append(p.Activities, e)
			case TimerCreated:
				p.Timers = append(p.Timers, e)
			case SubOrchestrationScheduled:
				p.Children = append(p.Children, e)
			}
		}
	}
	for _, e := range p.Carried {
		if e.Type == ActivityCompleted {
			p.Done++
		}
	}
	return p, nil
}

// Rewound is the event that restarts the rewound run of p, for reason.
func (p *RewindPlan) Rewound(reason string) Event {
	return Event{Type: OrchestrationRewound, Name: reason, Carried: p.Carried}
}

// deliverRewound records a rewind and delivers the events it carries, at
// its time (the run's clock does not go back).
func (x *Instance) deliverRewound(e *Event) {
	if !x.Started() || x.done {
		return
	}
	x.now = e.Time
	m := *e
	m.Carried = nil
	x.record(&m)
	for i := range e.Carried {
		c := e.Carried[i]
		if c.Type == OrchestrationStarted || c.Type == OrchestrationRewound {
			continue
		}
		if !e.Time.IsZero() {
			c.Time = e.Time
		}
		x.deliver(&c)
	}
}
