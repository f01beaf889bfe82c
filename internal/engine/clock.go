package engine

import (
	"context"
	"time"
)

// Clock is the engine's time: the wall clock in production, a virtual
// clock in the test harness. Everything the engine schedules (timers,
// retry back-offs, attempt deadlines, polls) goes through it.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed; Stop on
	// the result cancels it.
	AfterFunc(d time.Duration, f func()) Timer
	// WithTimeout is context.WithTimeout on this clock.
	WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc)
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop cancels the call; false if it already ran or was stopped.
	Stop() bool
}

// WallClock is the real time, read as the wall time when the process
// started plus the monotonic time since. Due times are stored as wall
// times; read this way, a wall clock stepped backwards (or forwards) while
// the worker runs neither holds its timers back nor fires them early. A
// new process reads the wall clock anew.
var WallClock Clock = wallClock{start: time.Now()}

type wallClock struct{ start time.Time }

func (c wallClock) Now() time.Time { return c.start.Add(time.Since(c.start)) }

func (wallClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

func (wallClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}
