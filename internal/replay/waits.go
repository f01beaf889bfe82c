package replay

import (
	"cmp"
	"slices"
	"time"
)

// EventWait is a wait of the orchestrator code for an external event that
// no event has answered yet.
type EventWait struct {
	// Name is the event's name.
	Name string
	// Since is when the code began the wait (the step's time).
	Since time.Time
}

// EventWaits lists the instance's unanswered waits for external events,
// in the order they began (then by name): a wait whose timeout fired is
// not one. It is what the code is blocked in besides its pending actions,
// which history records; it is nil for an instance without any.
func (x *Instance) EventWaits() []EventWait {
	var out []EventWait
	for _, q := range x.events {
		for i, w := range q.waiters {
			if !w.ready {
				out = append(out, EventWait{Name: q.name, Since: q.since[i]})
			}
		}
	}
	slices.SortFunc(out, func(a, b EventWait) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.Name, b.Name))
	})
	return out
}
