// Package schedule holds the rules of schedules that every engine follows:
// validating a definition, the slots of a spec (cron in a time zone, or an
// epoch-aligned interval), each slot's jitter and instance id. The
// embedded engine's scheduler (internal/engine) fires them; the Temporal
// engine maps them onto Temporal Schedules, whose rules are the same.
package schedule

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/cloudbutton/cloudbutton/client"
)

// MaxIDLength bounds a schedule id (its instances' ids add 21 bytes).
const MaxIDLength = 200

// Spec is a validated ScheduleSpec, ready to compute slots.
type Spec struct {
	client.ScheduleSpec
	cron cron.Schedule
	loc  *time.Location
}

// parser reads standard five-field expressions and descriptors (@daily).
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Compile validates s; an error matches client.ErrInvalidSchedule and
// names what was wrong.
func Compile(s client.ScheduleSpec) (*Spec, error) {
	bad := func(format string, args ...any) (*Spec, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{client.ErrInvalidSchedule}, args...)...)
	}
	switch {
	case s.Cron == "" && s.Every == 0:
		return bad("neither a cron expression nor an interval")
	case s.Cron != "" && s.Every != 0:
		return bad("both a cron expression (%q) and an interval (%s): give one", s.Cron, s.Every)
	case s.Every < 0:
		return bad("interval %s: must be positive", s.Every)
	case s.Jitter < 0:
		return bad("jitter %s: negative", s.Jitter)
	}
	loc := time.UTC
	if s.TimeZone != "" {
		l, err := location(s.TimeZone)
		if err != nil {
			return bad("unknown time zone %q", s.TimeZone)
		}
		loc = l
	}
	c := &Spec{ScheduleSpec: s, loc: loc}
	if s.Cron != "" {
		if t := strings.TrimSpace(s.Cron); strings.HasPrefix(t, "TZ=") || strings.HasPrefix(t, "CRON_TZ=") {
			return bad("cron expression %q: give the time zone as the schedule's time zone, not in the expression", s.Cron)
		}
		if strings.HasPrefix(strings.TrimSpace(s.Cron), "@every") {
			return bad("cron expression %q: give an interval as the schedule's interval (--every)", s.Cron)
		}
		sched, err := parser.Parse(s.Cron)
		if err != nil {
			return bad("cron expression %q: %v", s.Cron, err)
		}
		if ss, ok := sched.(*cron.SpecSchedule); ok {
			ss.Location = loc
		}
		c.cron = sched
		if c.Next(time.Unix(0, 0)).IsZero() {
			return bad("cron expression %q: never fires", s.Cron)
		}
	}
	return c, nil
}

// locations caches time.LoadLocation, which reads the zone's file.
var locations sync.Map // name -> *time.Location

func location(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}

// Validate checks a whole definition, as CreateScheduleRaw receives it.
func Validate(o client.ScheduleOptions) (*Spec, error) {
	bad := func(format string, args ...any) (*Spec, error) {
		return nil, fmt.Errorf("%w: schedule %q: "+format, append([]any{client.ErrInvalidSchedule, o.ID}, args...)...)
	}
	switch {
	case o.ID == "":
		return bad("empty id")
	case len(o.ID) > MaxIDLength:
		return bad("id of %d bytes (at most %d)", len(o.ID), MaxIDLength)
	case o.Orchestrator == "":
		return bad("empty orchestrator name")
	case o.Overlap < client.OverlapSkip || o.Overlap > client.OverlapCancelPrevious:
		return bad("unknown overlap policy %d", o.Overlap)
	case o.CatchupWindow < 0:
		return bad("catch-up window %s: negative", o.CatchupWindow)
	case o.Limit < 0:
		return bad("limit %d: negative", o.Limit)
	}
	s, err := Compile(o.Spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", o.ID, err)
	}
	return s, nil
}

// Location is the time zone of the spec.
func (s *Spec) Location() *time.Location { return s.loc }

// Next returns the first nominal slot strictly after t (zero if none).
func (s *Spec) Next(t time.Time) time.Time {
	if s.cron != nil {
		n := s.cron.Next(t.In(s.loc))
		for !n.IsZero() && s.repeated(n) {
			n = s.cron.Next(n) // the wall time fired already, before the clocks went back
		}
		if n.IsZero() {
			return n
		}
		return n.UTC()
	}
	e := s.Every.Nanoseconds()
	ns := t.UnixNano()
	k := ns / e
	if ns < 0 && ns%e != 0 {
		k-- // floor
	}
	return time.Unix(0, (k+1)*e).UTC()
}

// repeated reports whether the wall time of n occurred earlier the same
// day, before a daylight-saving change put the clocks back: a cron slot
// fires once per wall time, at its first occurrence.
func (s *Spec) repeated(n time.Time) bool {
	_, off := n.In(s.loc).Zone()
	_, before := n.Add(-3 * time.Hour).In(s.loc).Zone()
	if before <= off {
		return false
	}
	earlier := n.Add(-time.Duration(before-off) * time.Second).In(s.loc)
	return earlier.Format(time.DateTime) == n.In(s.loc).Format(time.DateTime)
}

// JitterOf returns the jitter of a schedule's slot: below s.Jitter, the
// same for the slot wherever and whenever it is computed.
func (s *Spec) JitterOf(scheduleID string, slot time.Time) time.Duration {
	if s.Jitter <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(scheduleID))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(slot.UnixNano()))
	h.Write(b[:])
	return time.Duration(h.Sum64() % uint64(s.Jitter))
}

// InstanceID is the id of the instance a schedule starts for a slot (or
// a trigger at that time): the schedule id, "-", and the slot in RFC 3339
// (UTC; to the second, as Temporal names a schedule's workflows, or finer
// for a slot that is not on a whole second).
func InstanceID(scheduleID string, slot time.Time) string {
	return scheduleID + "-" + slot.UTC().Format(time.RFC3339Nano)
}

// Skip counts the slots strictly between after and before, and returns
// the last of them (after itself if none): how a schedule passes over the
// slots it missed, in O(1) for an interval.
func (s *Spec) Skip(after, before time.Time) (n int, last time.Time) {
	last = after
	if s.cron == nil {
		first := s.Next(after)
		if !first.Before(before) {
			return 0, after
		}
		e := s.Every.Nanoseconds()
		k := (before.UnixNano() - 1 - first.UnixNano()) / e
		return int(k) + 1, first.Add(time.Duration(k * e))
	}
	for t := s.Next(after); !t.IsZero() && t.Before(before); t = s.Next(t) {
		n, last = n+1, t
	}
	return n, last
}
