package worker

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cloudbutton/cloudbutton/internal/keylimit"
)

// ErrInvalidLimit is matched (errors.Is) by Start's error for an invalid
// KeyLimit, and by ParseKeyLimit's.
var ErrInvalidLimit = errors.New("worker: invalid key limit")

// KeyLimit bounds the attempts of the activity calls that name a key
// (orchestration.WithKey) matching Key: at most MaxInFlight running at
// once and at most PerSecond started per second, in bursts of up to
// Burst. The worker enforces it over all instances, taking the instances
// waiting on a key in turn (round robin: one large fan-out does not
// starve a small instance).
//
// Key is a key ("api.stripe.com"), a prefix ending in "*" ("tenant-*"),
// or "*": the limit of every key that no other limit matches. An exact
// key wins over a prefix, a longer prefix over a shorter one.
//
// MaxInFlight 0 means no bound on the number in flight, PerSecond 0 no
// rate; one of them must be set (a limit of 0 is an error, as are
// negative values). Burst 0 means the rate rounded up (at least 1).
//
// Limits hold across restarts: the rate's bucket starts empty, so a
// worker that restarts does not burst; attempts of a stopped worker are
// over before the next one starts (in-process), so in-flight counts start
// at zero.
type KeyLimit struct {
	Key         string
	MaxInFlight int
	PerSecond   float64
	Burst       int
}

// String is the limit in ParseKeyLimit's syntax.
func (l KeyLimit) String() string { return l.internal().String() }

func (l KeyLimit) internal() keylimit.Limit {
	return keylimit.Limit{Pattern: l.Key, MaxInFlight: l.MaxInFlight, PerSecond: l.PerSecond, Burst: l.Burst}
}

// ParseKeyLimit reads a limit as the CLI's --key-limit flag has it:
// KEY=N[,R/s][,burst=B] or KEY=R/s[,burst=B]: "api.stripe.com=10,5/s" is
// 10 in flight and 5 per second; "tenant-*=3" is 3 in flight for every
// key starting with "tenant-".
func ParseKeyLimit(s string) (KeyLimit, error) {
	l, err := keylimit.Parse(s)
	if err != nil {
		return KeyLimit{}, wrapLimit(err)
	}
	return KeyLimit{Key: l.Pattern, MaxInFlight: l.MaxInFlight, PerSecond: l.PerSecond, Burst: l.Burst}, nil
}

// validateLimits checks Options.KeyLimits (Start refuses invalid ones).
func validateLimits(ls []KeyLimit) error {
	in := make([]keylimit.Limit, len(ls))
	for i, l := range ls {
		in[i] = l.internal()
	}
	if _, err := keylimit.NewSet(in); err != nil {
		return wrapLimit(err)
	}
	return nil
}

// wrapLimit turns keylimit's error into this package's family.
func wrapLimit(err error) error {
	msg := strings.TrimPrefix(err.Error(), keylimit.ErrInvalid.Error()+": ")
	return fmt.Errorf("%w: %s", ErrInvalidLimit, msg)
}
