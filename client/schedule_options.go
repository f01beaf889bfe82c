package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/option"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// ScheduleOption configures CreateSchedule, as StartOption does Start: a
// constructor given a bad value returns an option that makes
// CreateSchedule fail, naming it (and matching ErrInvalidSchedule).
type ScheduleOption func(*scheduleSettings) error

type scheduleSettings struct{ opts ScheduleOptions }

func invalidSchedule(format string, args ...any) ScheduleOption {
	err := fmt.Errorf("%w: "+format, append([]any{ErrInvalidSchedule}, args...)...)
	return func(*scheduleSettings) error { return err }
}

// WithOverlap sets the overlap policy (default OverlapSkip).
func WithOverlap(p OverlapPolicy) ScheduleOption {
	if p < OverlapSkip || p > OverlapCancelPrevious {
		return invalidSchedule("WithOverlap(%d): unknown policy", p)
	}
	return func(s *scheduleSettings) error { s.opts.Overlap = p; return nil }
}

// WithCatchupWindow sets how late a missed slot may still start (default
// DefaultCatchupWindow). It must be positive.
func WithCatchupWindow(d time.Duration) ScheduleOption {
	if d <= 0 {
		return invalidSchedule("WithCatchupWindow(%s): must be positive", d)
	}
	return func(s *scheduleSettings) error { s.opts.CatchupWindow = d; return nil }
}

// WithJitter delays each slot by a deterministic amount below d (see
// ScheduleSpec.Jitter). It must be positive.
func WithJitter(d time.Duration) ScheduleOption {
	if d <= 0 {
		return invalidSchedule("WithJitter(%s): must be positive; omit the option for none", d)
	}
	return func(s *scheduleSettings) error { s.opts.Spec.Jitter = d; return nil }
}

// WithTimeZone reads the cron expression in the IANA time zone tz (default
// UTC), e.g. "Europe/Paris".
func WithTimeZone(tz string) ScheduleOption {
	if _, err := time.LoadLocation(tz); err != nil || tz == "" {
		return invalidSchedule("WithTimeZone(%q): unknown time zone", tz)
	}
	return func(s *scheduleSettings) error { s.opts.Spec.TimeZone = tz; return nil }
}

// WithPaused creates the schedule paused, with note saying why.
func WithPaused(note string) ScheduleOption {
	return func(s *scheduleSettings) error { s.opts.Paused, s.opts.Note = true, note; return nil }
}

// WithScheduleLimit stops the schedule after it started n slots. It must
// be positive: omit the option for no limit.
func WithScheduleLimit(n int) ScheduleOption {
	if n <= 0 {
		return invalidSchedule("WithScheduleLimit(%d): must be positive; omit the option for no limit", n)
	}
	return func(s *scheduleSettings) error { s.opts.Limit = n; return nil }
}

// Cron is the spec of a cron schedule; Every that of an interval.
func Cron(expr string) ScheduleSpec { return ScheduleSpec{Cron: expr} }

// Every is the spec of an interval schedule (see ScheduleSpec.Every).
func Every(d time.Duration) ScheduleSpec { return ScheduleSpec{Every: d} }

// CreateSchedule creates the schedule id, which starts orchestrator o with
// input in at each slot of spec. The engine of c must have schedules (both
// engines do; see SchedulesOf).
func CreateSchedule[In, Out any](ctx context.Context, c Client, id string, spec ScheduleSpec, o *orchestration.Orchestrator[In, Out], in In, opts ...ScheduleOption) error {
	if o == nil {
		return errors.New("client.CreateSchedule: nil orchestrator")
	}
	s := scheduleSettings{opts: ScheduleOptions{ID: id, Spec: spec, Orchestrator: o.Name()}}
	if err := option.Apply(&s, opts); err != nil {
		return fmt.Errorf("client.CreateSchedule(%q): %w", id, err)
	}
	sc, err := SchedulesOf(c)
	if err != nil {
		return err
	}
	data, err := codec.Encode(c.Codec(), unbounded, fmt.Sprintf("input of schedule %q", id), in)
	if err != nil {
		return err
	}
	s.opts.Input = data
	return sc.CreateScheduleRaw(ctx, s.opts)
}
