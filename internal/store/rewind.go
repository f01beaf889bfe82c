package store

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/replay"
)

// ErrInstanceChanged is returned by Rewind when an instance it rewrites is no
// longer as the rewind found it (another client changed it meanwhile):
// nothing was changed.
var ErrInstanceChanged = errors.New("store: instance changed meanwhile")

// Rewrite is one instance's part of a rewind.
type Rewrite struct {
	InstanceID string
	// Generation and Status are what the instance must still be (Status
	// Failed or Terminated), else the rewind is ErrInstanceChanged.
	Generation int
	Status     string
	// History replaces the current run's history.
	History []replay.Event
	// Messages are added to the inbox, which is emptied first.
	Messages []Message
	// Progress replaces the activity counters.
	Progress Progress
}

// Rewinder is a Store that rewinds instances (the embedded engine's
// Rewind). Both stores of this module implement it.
type Rewinder interface {
	// Rewind applies the rewrites and purges the instances in purge, in
	// one transaction: each rewritten instance gets its new history and
	// inbox, loses its retry state, output, failure and completion time,
	// and is Pending (a worker's recovery leaves it to the step that
	// takes its first message, which makes it Running). A purged instance must have ended. If any instance
	// is not as expected nothing changes (ErrInstanceChanged, or ErrNotFound).
	// and is Pending (a worker's recovery leaves it to the step that
	// takes its first message, which makes it Running). A purged instance must have ended. If any instance
	// is not as expected nothing changes (ErrInstanceChanged, or ErrNotFound).
	Rewind(ctx context.Context, rewrites []Rewrite, purge []string) error
	// Parked returns the events parked in an instance's inbox (see
	// Parked), in insertion order.
	Parked(ctx context.Context, id string) ([]replay.Event, error)
}

// Parked is the visibility time of a message that is never delivered:
// the result of an activity that came after its run failed or was
// terminated, kept in the instance's inbox for a rewind (which carries
// it to the rewound run, so that the activity does not run again) until
// a rewind, a purge or a new run of the id deletes it. It is the latest
// time the stores hold (2262).
var Parked = time.Unix(0, math.MaxInt64).UTC()
