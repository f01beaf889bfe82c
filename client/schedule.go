package client

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of schedules; match them with errors.Is.
var (
	// ErrScheduleNotFound is returned for an unknown schedule id.
	ErrScheduleNotFound = errors.New("client: schedule not found")
	// ErrScheduleExists is returned by CreateSchedule for a taken id.
	ErrScheduleExists = errors.New("client: schedule already exists")
	// ErrInvalidSchedule is matched by a schedule refused for its
	// definition: an invalid cron expression, a zero or negative interval,
	// an unknown time zone, a limit of 0. The message names what was wrong.
	ErrInvalidSchedule = errors.New("client: invalid schedule")
	// ErrSchedulesUnsupported is returned by SchedulesOf for a client
	// whose engine has no schedules. It matches errors.ErrUnsupported.
	ErrSchedulesUnsupported = fmt.Errorf("client: the engine has no schedules: %w", errors.ErrUnsupported)
)

// OverlapPolicy says what a schedule does when a slot comes due while the
// run it started before is still live.
type OverlapPolicy int

const (
	// OverlapSkip (the default) skips the slot; it is counted in
	// ScheduleInfo.Skipped.
	OverlapSkip OverlapPolicy = iota
	// OverlapBufferOne starts the slot once the live run ends; one slot
	// is kept, further ones are skipped.
	OverlapBufferOne
	// OverlapAllowAll starts every slot, runs overlapping.
	OverlapAllowAll
	// OverlapCancelPrevious terminates the live run (as Terminate does)
	// and starts the slot.
	OverlapCancelPrevious
)

var overlapNames = [...]string{"skip", "buffer-one", "allow-all", "cancel-previous"}

// String returns the policy's name, as the CLI's --overlap takes it.
func (p OverlapPolicy) String() string {
	if p < 0 || int(p) >= len(overlapNames) {
		return fmt.Sprintf("OverlapPolicy(%d)", int(p))
	}
	return overlapNames[p]
}

// MarshalText encodes the policy as its name, in JSON too.
func (p OverlapPolicy) MarshalText() ([]byte, error) {
	if p < 0 || int(p) >= len(overlapNames) {
		return nil, fmt.Errorf("%w: unknown overlap policy %d", ErrInvalidSchedule, int(p))
	}
	return []byte(overlapNames[p]), nil
}

// UnmarshalText decodes a policy's name.
func (p *OverlapPolicy) UnmarshalText(b []byte) error {
	v, err := ParseOverlapPolicy(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ParseOverlapPolicy returns the policy named s (see String).
func ParseOverlapPolicy(s string) (OverlapPolicy, error) {
	for i, n := range overlapNames {
		if n == s {
			return OverlapPolicy(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown overlap policy %q (one of skip, buffer-one, allow-all, cancel-previous)", ErrInvalidSchedule, s)
}

// ScheduleSpec says when a schedule fires: a cron expression or an
// interval, exactly one of them.
type ScheduleSpec struct {
	// Cron is a standard five-field cron expression ("30 2 * * MON-FRI")
	// or a descriptor ("@hourly", "@daily"), read in TimeZone.
	Cron string `json:"cron,omitempty"`
	// Every is an interval: slots are the multiples of Every since the
	// Unix epoch (UTC), so every engine and restart agrees on them.
	Every time.Duration `json:"every,omitempty"`
	// TimeZone is the IANA name the cron expression is read in (default
	// UTC), e.g. "Europe/Paris". A wall time that a daylight-saving change
	// skips does not fire that day; one it repeats fires once.
	TimeZone string `json:"timeZone,omitempty"`
	// Jitter delays each slot by a pseudo-random amount below it, the
	// same for a slot on every engine and after every restart.
	Jitter time.Duration `json:"jitter,omitempty"`
}

// ScheduleOptions define a schedule: the engines' side of CreateSchedule,
// built by the typed CreateSchedule from its ScheduleOption values.
type ScheduleOptions struct {
	// ID names the schedule; the instance of a slot is ID + "-" + the
	// slot's time in RFC 3339 (UTC), e.g. "nightly-2026-12-01T02:30:00Z".
	ID   string
	Spec ScheduleSpec
	// Orchestrator is the name of the orchestrator each slot starts, with
	// the encoded Input.
	Orchestrator string
	Input        []byte
	Overlap      OverlapPolicy
	// CatchupWindow bounds how late a slot may start: slots missed while
	// no worker ran are started if they are at most this old, and skipped
	// and counted (ScheduleInfo.Missed) otherwise. Zero means
	// DefaultCatchupWindow.
	CatchupWindow time.Duration
	// Paused creates the schedule paused, with Note saying why.
	Paused bool
	Note   string
	// Limit is how many slots the schedule starts before it stops firing;
	// zero means no limit.
	Limit int
}

// DefaultCatchupWindow is the catch-up window of a schedule that sets
// none.
const DefaultCatchupWindow = time.Minute

// ScheduleInfo describes a schedule: its definition and state.
type ScheduleInfo struct {
	ID            string        `json:"id"`
	Spec          ScheduleSpec  `json:"spec"`
	Orchestrator  string        `json:"orchestrator"`
	Input         []byte        `json:"input,omitempty"`
	Overlap       OverlapPolicy `json:"overlap"`
	CatchupWindow time.Duration `json:"catchupWindow"`
	Paused        bool          `json:"paused"`
	Note          string        `json:"note,omitempty"`
	// Limit is the limit it was created with, Remaining what is left of
	// it (both zero without one).
	Limit     int `json:"limit,omitempty"`
	Remaining int `json:"remaining,omitempty"`
	// Fired counts the instances it started (slots, triggers and
	// backfills); Skipped the slots the overlap policy skipped; Missed the
	// slots older than the catch-up window when a worker came back.
	Fired   int `json:"fired"`
	Skipped int `json:"skipped"`
	Missed  int `json:"missed"`
	// Recent are the ids of the last instances it started, newest last
	// (at most 10).
	Recent []string `json:"recent,omitempty"`
	// Next are the next slots' times (jitter included), at most 5; none
	// while paused.
	Next      []time.Time `json:"next,omitempty"`
	CreatedAt time.Time   `json:"createdAt,omitzero"`
}

// Schedules manages the schedules of an engine. Both engines' clients
// implement it; get it from a Client with SchedulesOf. Implementations are
// safe for concurrent use.
type Schedules interface {
	// CreateScheduleRaw creates a schedule; ErrScheduleExists for a
	// taken id, ErrInvalidSchedule for a bad definition. Prefer the typed
	// CreateSchedule.
	CreateScheduleRaw(ctx context.Context, opts ScheduleOptions) error
	// DescribeSchedule returns a schedule; ErrScheduleNotFound if absent.
	DescribeSchedule(ctx context.Context, id string) (*ScheduleInfo, error)
	// ListSchedules returns every schedule, by id.
	ListSchedules(ctx context.Context) ([]*ScheduleInfo, error)
	// PauseSchedule stops a schedule firing; note says why. Slots due
	// while paused are not started, then or later.
	PauseSchedule(ctx context.Context, id, note string) error
	// UnpauseSchedule resumes a paused schedule from its next slot.
	UnpauseSchedule(ctx context.Context, id, note string) error
	// TriggerSchedule starts the schedule's orchestration now, whatever
	// its overlap policy and pause, and returns the instance id. The run
	// is not one that the overlap policy of later slots looks at (on
	// Temporal too: it does not track runs started under allow-all).
	TriggerSchedule(ctx context.Context, id string) (string, error)
	// BackfillSchedule starts the slots in [start, end) whose instances
	// do not exist yet, whatever the overlap policy (and, as triggers,
	// not looked at by it), and returns the ids of the instances it
	// started.
	BackfillSchedule(ctx context.Context, id string, start, end time.Time) ([]string, error)
	// DeleteSchedule deletes a schedule: it fires no more. The instances
	// it started are left as they are.
	DeleteSchedule(ctx context.Context, id string) error
}

// SchedulesOf returns the schedules of c's engine, or
// ErrSchedulesUnsupported. It is the only way to them: schedules are an
// optional upgrade of Client, so that a Client (a test double, a wrapper)
// need not implement them.
func SchedulesOf(c Client) (Schedules, error) {
	s, ok := c.(Schedules)
	if !ok {
		return nil, fmt.Errorf("%w (%T)", ErrSchedulesUnsupported, c)
	}
	return s, nil
}
