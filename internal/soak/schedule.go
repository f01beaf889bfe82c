package soak

import (
	"math/rand/v2"
	"slices"
	"time"
)

// When a kill falls, relative to the worker's start.
const (
	// killOpen: before the worker is ready, at a fraction of the median
	// time to ready seen so far: during start-up, open (integrity check)
	// or recovery.
	killOpen = "open"
	// killEarly: within earlyWindow after ready: the first steps, the
	// activities that recovery runs again.
	killEarly = "early"
	// killLate: between earlyWindow and Options.MaxKillDelay after ready.
	killLate = "late"
)

// earlyWindow is the span after ready in which an early kill falls.
const earlyWindow = 50 * time.Millisecond

// kill is one entry of the kill schedule.
type kill struct {
	when string  // killOpen, killEarly or killLate
	frac float64 // the position in its span, in [0, 1)
}

// schedule draws n kills from the seed: a fifth during open or recovery,
// a quarter just after ready, the rest later.
func schedule(seed uint64, n int) []kill {
	rng := rand.New(rand.NewPCG(seed, 0x4b111))
	ks := make([]kill, n)
	for i := range ks {
		p := rng.Float64()
		switch {
		case p < 0.2:
			ks[i].when = killOpen
		case p < 0.45:
			ks[i].when = killEarly
		default:
			ks[i].when = killLate
		}
		ks[i].frac = rng.Float64()
	}
	return ks
}

// delay is how long after ready (or, for killOpen, after the start of
// the process) the kill falls; readyMedian scales killOpen.
func (k kill) delay(readyMedian, maxDelay time.Duration) time.Duration {
	switch k.when {
	case killOpen:
		return time.Duration(k.frac * float64(readyMedian))
	case killEarly:
		return time.Duration(k.frac * float64(earlyWindow))
	}
	late := max(maxDelay-earlyWindow, 0)
	return earlyWindow + time.Duration(k.frac*float64(late))
}

// median of ds (0 for none).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
