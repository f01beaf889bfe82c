package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/schedule"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

var _ client.Schedules = (*Engine)(nil)

// schedDef is a schedule's definition as stored: ScheduleOptions without
// the id (the row's key), under stable JSON names.
type schedDef struct {
	Spec          client.ScheduleSpec  `json:"spec"`
	Orchestrator  string               `json:"orchestrator"`
	Input         []byte               `json:"input,omitempty"`
	Overlap       client.OverlapPolicy `json:"overlap"`
	CatchupWindow time.Duration        `json:"catchupWindow"`
	Paused        bool                 `json:"paused,omitempty"`
	Note          string               `json:"note,omitempty"`
	Limit         int                  `json:"limit,omitempty"`
}

// schedState is a schedule as the engine stores it (store.Schedule.Data):
// its definition and where it is.
type schedState struct {
	Def schedDef `json:"def"`
	// Cursor is the last slot handled (started, skipped, buffered or
	// missed): the next one is the spec's first after it.
	Cursor time.Time `json:"cursor"`
	// Buffered is the slot kept by OverlapBufferOne, started once Last
	// ends.
	Buffered time.Time `json:"buffered,omitzero"`
	// Last is the latest instance a slot started: the one the overlap
	// policy looks at (not triggers and backfills, as on Temporal, which
	// does not track runs started under allow-all).
	Last      string    `json:"last,omitempty"`
	Remaining int       `json:"remaining,omitempty"`
	Fired     int       `json:"fired"`
	Skipped   int       `json:"skipped"`
	Missed    int       `json:"missed"`
	Recent    []string  `json:"recent,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// deleted makes changeSchedule delete the schedule.
	deleted bool
}

const (
	maxRecent   = 10
	maxNext     = 5
	maxBackfill = 10000
)

// started counts an instance the schedule started; slot (not a trigger or
// a backfill) makes it the run the overlap policy looks at.
func (st *schedState) started(id string, slot bool) {
	st.Fired++
	if slot {
		st.Last = id
	}
	st.Recent = append(st.Recent, id)
	if len(st.Recent) > maxRecent {
		st.Recent = st.Recent[len(st.Recent)-maxRecent:]
	}
}

// window is the schedule's catch-up window.
func (st *schedState) window() time.Duration {
	if st.Def.CatchupWindow > 0 {
		return st.Def.CatchupWindow
	}
	return client.DefaultCatchupWindow
}

// exhausted reports whether the schedule's limit is used up.
func (st *schedState) exhausted() bool { return st.Def.Limit > 0 && st.Remaining <= 0 }

func decodeSchedule(sc *store.Schedule) (*schedState, *schedule.Spec, error) {
	var st schedState
	if err := json.Unmarshal(sc.Data, &st); err != nil {
		return nil, nil, fmt.Errorf("embedded: schedule %q: %w: %v", sc.ID, store.ErrCorrupt, err)
	}
	spec, err := schedule.Compile(st.Def.Spec)
	if err != nil {
		return nil, nil, fmt.Errorf("embedded: schedule %q as stored: %w", sc.ID, err)
	}
	return &st, spec, nil
}

func (e *Engine) schedules() (store.Schedules, error) {
	s, ok := e.store.(store.Schedules)
	if !ok {
		return nil, fmt.Errorf("%w (store %T)", client.ErrSchedulesUnsupported, e.store)
	}
	return s, nil
}

func scheduleErr(err error, id string) error {
	if errors.Is(err, store.ErrScheduleNotFound) {
		return fmt.Errorf("%w: %q", client.ErrScheduleNotFound, id)
	}
	return err
}

// CreateScheduleRaw implements client.Schedules.
func (e *Engine) CreateScheduleRaw(ctx context.Context, o client.ScheduleOptions) error {
	ss, err := e.schedules()
	if err != nil {
		return err
	}
	if _, err := schedule.Validate(o); err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	for what, s := range map[string]string{"schedule id": o.ID, "orchestrator name": o.Orchestrator} {
		if err := validText(what, s); err != nil {
			return fmt.Errorf("%w: %w", client.ErrInvalidSchedule, err)
		}
	}
	hosted, names, err := e.hosted(ctx, o.Orchestrator)
	if err != nil {
		return err
	}
	if !hosted && e.opts.CheckNames {
		return fmt.Errorf("%w: %q (registered: %s)", client.ErrUnknownName, o.Orchestrator, strings.Join(names, ", "))
	}
	if err := codec.CheckSize(e.limits(), fmt.Sprintf("input of schedule %q", o.ID), o.Input); err != nil {
		return err
	}
	if o.CatchupWindow == 0 {
		o.CatchupWindow = client.DefaultCatchupWindow
	}
	now := e.clock.Now().UTC()
	def := schedDef{Spec: o.Spec, Orchestrator: o.Orchestrator, Input: o.Input, Overlap: o.Overlap,
		CatchupWindow: o.CatchupWindow, Paused: o.Paused, Note: o.Note, Limit: o.Limit}
	st := schedState{Def: def, Cursor: now, Remaining: o.Limit, CreatedAt: now}
	data, err := json.Marshal(&st)
	if err != nil {
		return err
	}
	if err := ss.CreateSchedule(ctx, o.ID, data); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("%w: %q", client.ErrScheduleExists, o.ID)
		}
		return err
	}
	e.pokeScheduler()
	return nil
}

// changeSchedule applies change to a schedule, from a fresh read each
// time the write conflicts with another one (the scheduler's), and starts
// the instances change returns. It returns the ids of those created.
func (e *Engine) changeSchedule(ctx context.Context, id string, change func(st *schedState, spec *schedule.Spec, now time.Time) ([]store.ScheduleStart, error)) ([]string, error) {
	ss, err := e.schedules()
	if err != nil {
		return nil, err
	}
	for {
		sc, err := ss.Schedule(ctx, id)
		if err != nil {
			return nil, scheduleErr(err, id)
		}
		st, spec, err := decodeSchedule(sc)
		if err != nil {
			return nil, err
		}
		starts, err := change(st, spec, e.clock.Now().UTC())
		if err != nil {
			return nil, err
		}
		w := store.ScheduleWrite{ID: id, Version: sc.Version, Starts: starts}
		if !st.deleted {
			if w.Data, err = json.Marshal(st); err != nil {
				return nil, err
			}
		}
		created, err := ss.WriteSchedule(ctx, w)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, scheduleErr(err, id)
		}
		if len(created) > 0 {
			e.wake()
		}
		e.pokeScheduler()
		return created, nil
	}
}

// slotStart is the instance a schedule starts with id, now.
func (e *Engine) slotStart(ctx context.Context, st *schedState, id string, now time.Time) (store.ScheduleStart, error) {
	hosted, _, err := e.hosted(ctx, st.Def.Orchestrator)
	if err != nil {
		return store.ScheduleStart{}, err
	}
	inst, msg := e.newInstance(ctx, id, st.Def.Orchestrator, st.Def.Input, 0, hosted, now, now)
	return store.ScheduleStart{Instance: inst, Start: msg}, nil
}

// DescribeSchedule implements client.Schedules.
func (e *Engine) DescribeSchedule(ctx context.Context, id string) (*client.ScheduleInfo, error) {
	ss, err := e.schedules()
	if err != nil {
		return nil, err
	}
	sc, err := ss.Schedule(ctx, id)
	if err != nil {
		return nil, scheduleErr(err, id)
	}
	return describe(sc)
}

func describe(sc *store.Schedule) (*client.ScheduleInfo, error) {
	st, spec, err := decodeSchedule(sc)
	if err != nil {
		return nil, err
	}
	d := st.Def
	info := &client.ScheduleInfo{ID: sc.ID, Spec: d.Spec, Orchestrator: d.Orchestrator, Input: d.Input,
		Overlap: d.Overlap, CatchupWindow: st.window(), Paused: d.Paused, Note: d.Note,
		Limit: d.Limit, Remaining: st.Remaining, Fired: st.Fired, Skipped: st.Skipped, Missed: st.Missed,
		Recent: st.Recent, CreatedAt: st.CreatedAt}
	if !d.Paused && !st.exhausted() {
		for t := st.Cursor; len(info.Next) < maxNext; {
			if t = spec.Next(t); t.IsZero() {
				break
			}
			info.Next = append(info.Next, t.Add(spec.JitterOf(sc.ID, t)))
			if d.Limit > 0 && len(info.Next) >= st.Remaining {
				break
			}
		}
	}
	return info, nil
}

// ListSchedules implements client.Schedules.
func (e *Engine) ListSchedules(ctx context.Context) ([]*client.ScheduleInfo, error) {
	ss, err := e.schedules()
	if err != nil {
		return nil, err
	}
	scs, err := ss.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*client.ScheduleInfo, 0, len(scs))
	for _, sc := range scs {
		info, err := describe(sc)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// PauseSchedule implements client.Schedules.
func (e *Engine) PauseSchedule(ctx context.Context, id, note string) error {
	_, err := e.changeSchedule(ctx, id, func(st *schedState, _ *schedule.Spec, _ time.Time) ([]store.ScheduleStart, error) {
		st.Def.Paused, st.Def.Note = true, note
		return nil, nil
	})
	return err
}

// UnpauseSchedule implements client.Schedules: the schedule goes on from
// its first slot after now; those due while it was paused are not
// started.
func (e *Engine) UnpauseSchedule(ctx context.Context, id, note string) error {
	_, err := e.changeSchedule(ctx, id, func(st *schedState, _ *schedule.Spec, now time.Time) ([]store.ScheduleStart, error) {
		if st.Def.Paused && now.After(st.Cursor) {
			st.Cursor = now
		}
		st.Def.Paused, st.Def.Note = false, note
		return nil, nil
	})
	return err
}

// TriggerSchedule implements client.Schedules.
func (e *Engine) TriggerSchedule(ctx context.Context, id string) (string, error) {
	var iid string
	created, err := e.changeSchedule(ctx, id, func(st *schedState, _ *schedule.Spec, now time.Time) ([]store.ScheduleStart, error) {
		iid = schedule.InstanceID(id, now)
		s, err := e.slotStart(ctx, st, iid, now)
		if err != nil {
			return nil, err
		}
		st.started(iid, false)
		return []store.ScheduleStart{s}, nil
	})
	if err != nil {
		return "", err
	}
	if len(created) == 0 {
		return "", fmt.Errorf("embedded: trigger of schedule %q: %w: %q", id, client.ErrAlreadyExists, iid)
	}
	return iid, nil
}

// BackfillSchedule implements client.Schedules.
func (e *Engine) BackfillSchedule(ctx context.Context, id string, start, end time.Time) ([]string, error) {
	if !start.Before(end) {
		return nil, fmt.Errorf("embedded: backfill of schedule %q: %w: empty range [%s, %s)", id, client.ErrInvalidSchedule,
			start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano))
	}
	return e.changeSchedule(ctx, id, func(st *schedState, spec *schedule.Spec, now time.Time) ([]store.ScheduleStart, error) {
		var starts []store.ScheduleStart
		n := 0
		for t := spec.Next(start.Add(-time.Nanosecond)); !t.IsZero() && t.Before(end); t = spec.Next(t) {
			if n++; n > maxBackfill {
				return nil, fmt.Errorf("embedded: backfill of schedule %q: %w: more than %d slots in [%s, %s)", id,
					client.ErrInvalidSchedule, maxBackfill, start.Format(time.RFC3339), end.Format(time.RFC3339))
			}
			iid := schedule.InstanceID(id, t)
			// A slot whose instance exists started already: once each. (The
			// store skips it too, should it appear meanwhile.)
			if _, err := e.store.Instance(ctx, iid); err == nil {
				continue
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			s, err := e.slotStart(ctx, st, iid, now)
			if err != nil {
				return nil, err
			}
			st.started(iid, false)
			starts = append(starts, s)
		}
		return starts, nil
	})
}

// DeleteSchedule implements client.Schedules.
func (e *Engine) DeleteSchedule(ctx context.Context, id string) error {
	_, err := e.changeSchedule(ctx, id, func(st *schedState, _ *schedule.Spec, _ time.Time) ([]store.ScheduleStart, error) {
		st.deleted = true
		return nil, nil
	})
	return err
}

// terminateMessage asks instance id to terminate (OverlapCancelPrevious),
// as Terminate does.
func (e *Engine) terminateMessage(id, reason string, now time.Time) store.Message {
	return store.Message{InstanceID: id, Event: replay.Event{Type: replay.TerminationRequested, Name: reason, Time: now}}
}
