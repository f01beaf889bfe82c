package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/schedule"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

// plan is what one look at a schedule decides: the slots' instances to
// start, in order, the live run to terminate, and when to look again.
type plan struct {
	start     []string
	terminate string
	// next is the due time of the next slot (zero: none, or paused);
	// waitEnd: a buffered slot waits for st.Last to end.
	next    time.Time
	waitEnd bool
}

// advance applies to st the slots of schedule id due at now (a slot is due
// at its time plus its jitter), given whether the run it started last is
// live. Slots older than the catch-up window are missed; the overlap
// policy decides of the others. It is the scheduler's whole rule, pure so
// that it is tested alone.
func advance(id string, st *schedState, spec *schedule.Spec, now time.Time, lastLive bool) plan {
	var p plan
	if st.Def.Paused {
		return p
	}
	start := func(slot time.Time) {
		iid := schedule.InstanceID(id, slot)
		p.start = append(p.start, iid)
		st.started(iid, true)
		if st.Def.Limit > 0 {
			st.Remaining--
		}
		lastLive = true
	}
	if !st.Buffered.IsZero() && !lastLive && !st.exhausted() {
		start(st.Buffered)
		st.Buffered = time.Time{}
	}
	// Slots before the catch-up window's edge are missed.
	if n, last := spec.Skip(st.Cursor, now.Add(-st.window())); n > 0 {
		st.Missed += n
		st.Cursor = last
	}
	for !st.exhausted() {
		slot := spec.Next(st.Cursor)
		if slot.IsZero() {
			break
		}
		if due := slot.Add(spec.JitterOf(id, slot)); due.After(now) {
			p.next = due
			break
		}
		st.Cursor = slot
		if !lastLive {
			start(slot)
			continue
		}
		switch st.Def.Overlap {
		case client.OverlapSkip:
			st.Skipped++
		case client.OverlapBufferOne:
			if st.Buffered.IsZero() {
				st.Buffered = slot
			} else {
				st.Skipped++
			}
		case client.OverlapAllowAll:
			start(slot)
		case client.OverlapCancelPrevious:
			if n := len(p.start); n > 0 && p.start[n-1] == st.Last {
				// Started in this very look (catching up): not started at
				// all rather than started and terminated.
				p.start = p.start[:n-1]
				st.Fired--
				st.Recent = st.Recent[:len(st.Recent)-1]
				if st.Def.Limit > 0 {
					st.Remaining++
				}
				st.Skipped++
			} else {
				p.terminate = st.Last
			}
			start(slot)
		}
	}
	p.waitEnd = !st.Buffered.IsZero()
	return p
}

// scheduler fires the schedules of the store, inside the worker (one per
// store, under its worker lock): at each slot's due time it writes the
// slot's instance and the schedule's cursor past it in one transaction
// (store.WriteSchedule), from the version it read, so that a crash at any
// moment neither skips nor repeats a slot, and a write that raced a
// client's (a pause) is redone from a fresh read.
type scheduler struct {
	e      *Engine
	ss     store.Schedules
	work   *work
	log    *slog.Logger
	pokeCh chan struct{}
	stopCh chan struct{}
	exited chan struct{}
	ctx    context.Context

	mu sync.Mutex
	// ends are the instances whose end a buffered slot waits for.
	ends map[string]bool
	// looked is what the last look at each schedule found (run goroutine
	// only): a schedule at the same version with nothing due before next
	// is not decoded again.
	looked map[string]looked
}

type looked struct {
	version int64
	next    time.Time
}

func newScheduler(ctx context.Context, e *Engine, w *work, log *slog.Logger) *scheduler {
	ss, ok := e.store.(store.Schedules)
	if !ok {
		return nil
	}
	s := &scheduler{e: e, ss: ss, work: w, log: log, pokeCh: make(chan struct{}, 1), stopCh: make(chan struct{}),
		exited: make(chan struct{}), ctx: context.WithoutCancel(ctx), ends: map[string]bool{}}
	s.poke()
	go s.run()
	return s
}

// pokeScheduler makes the scheduler of this process, if a worker runs
// here, look at the schedules again (one changed).
func (e *Engine) pokeScheduler() {
	e.mu.Lock()
	s := e.sched
	e.mu.Unlock()
	if s != nil {
		s.poke()
	}
}

func (s *scheduler) poke() {
	s.work.add(1)
	select {
	case s.pokeCh <- struct{}{}:
	default:
		s.work.done(1)
	}
}

func (s *scheduler) stop() {
	close(s.stopCh)
	<-s.exited
}

// ended pokes the scheduler if a buffered slot waits for one of ids.
func (s *scheduler) ended(ids []string) {
	s.mu.Lock()
	hit := false
	for _, id := range ids {
		hit = hit || s.ends[id]
	}
	s.mu.Unlock()
	if hit {
		s.poke()
	}
}

func (s *scheduler) run() {
	defer close(s.exited)
	tick := make(chan struct{}, 1)
	var timer Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-s.pokeCh:
		case <-tick:
		case <-s.stopCh:
			return
		}
		next := s.pass()
		if timer != nil {
			timer.Stop()
		}
		// Schedules created or changed by clients of other processes are
		// seen at the next poll.
		d := s.e.opts.PollInterval
		if !next.IsZero() {
			d = min(d, next.Sub(s.e.clock.Now()))
		}
		timer = s.e.clock.AfterFunc(d, func() {
			s.work.add(1)
			select {
			case tick <- struct{}{}:
			default:
				s.work.done(1)
			}
		})
		s.work.done(1)
	}
}

// pass looks at every schedule and returns the earliest next due time.
func (s *scheduler) pass() time.Time {
	scs, err := s.ss.Schedules(s.ctx)
	if err != nil {
		s.log.Error("embedded: reading schedules", "err", err)
		return s.e.clock.Now().Add(time.Second)
	}
	var next time.Time
	ends := map[string]bool{}
	now := s.e.clock.Now()
	if s.looked == nil {
		s.looked = map[string]looked{}
	}
	ids := make(map[string]bool, len(scs))
	for _, sc := range scs {
		ids[sc.ID] = true
		n := time.Time{}
		if l, ok := s.looked[sc.ID]; ok && l.version == sc.Version && (l.next.IsZero() || now.Before(l.next)) {
			n = l.next // unchanged, nothing due
		} else {
			var wait string
			var version int64
			var err error
			n, wait, version, err = s.fire(sc)
			switch {
			case err != nil:
				s.log.Error("embedded: schedule", "schedule", sc.ID, "err", err)
				n = now.Add(time.Second) // try again
				delete(s.looked, sc.ID)
			case wait != "":
				ends[wait] = true // looked at again on each pass
				delete(s.looked, sc.ID)
			default:
				s.looked[sc.ID] = looked{version: version, next: n}
			}
		}
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	for id := range s.looked {
		if !ids[id] {
			delete(s.looked, id) // deleted
		}
	}
	s.mu.Lock()
	s.ends = ends
	s.mu.Unlock()
	return next
}

// fire starts what is due of one schedule; it returns its next due time,
// the instance whose end a buffered slot waits for, and the schedule's
// version after it.
func (s *scheduler) fire(sc *store.Schedule) (time.Time, string, int64, error) {
	for {
		st, spec, err := decodeSchedule(sc)
		if err != nil {
			return time.Time{}, "", 0, err
		}
		lastLive := false
		if st.Last != "" {
			in, err := s.e.store.Instance(s.ctx, st.Last)
			switch {
			case err == nil:
				lastLive = !store.Terminal(in.Status)
			case !errors.Is(err, store.ErrNotFound):
				return time.Time{}, "", 0, err
			}
		}
		now := s.e.clock.Now().UTC()
		missed := st.Missed
		p := advance(sc.ID, st, spec, now, lastLive)
		wait := ""
		if p.waitEnd {
			wait = st.Last
		}
		data, err := json.Marshal(st)
		if err != nil {
			return time.Time{}, "", 0, err
		}
		if bytes.Equal(data, sc.Data) {
			return p.next, wait, sc.Version, nil
		}
		w := store.ScheduleWrite{ID: sc.ID, Version: sc.Version, Data: data}
		for _, iid := range p.start {
			start, err := s.e.slotStart(s.ctx, st, iid, now)
			if err != nil {
				return time.Time{}, "", 0, err
			}
			w.Starts = append(w.Starts, start)
		}
		abort := func() {}
		if p.terminate != "" && !slices.Contains(p.start, p.terminate) {
			// As Terminate does, in the same transaction as the start.
			abort = s.e.holdAttempts(p.terminate)
			w.Messages = append(w.Messages, s.e.terminateMessage(p.terminate, "schedule "+sc.ID+": overlap policy cancel-previous", now))
		}
		created, err := s.ss.WriteSchedule(s.ctx, w)
		if err != nil {
			abort()
		} else if len(w.Messages) > 0 {
			s.e.terminationSent(s.ctx, p.terminate)
		}
		if errors.Is(err, store.ErrConflict) {
			if sc, err = s.ss.Schedule(s.ctx, sc.ID); err != nil {
				if errors.Is(err, store.ErrScheduleNotFound) {
					return time.Time{}, "", 0, nil // deleted meanwhile
				}
				return time.Time{}, "", 0, err
			}
			continue
		}
		if err != nil {
			return time.Time{}, "", 0, err
		}
		if len(created) > 0 || len(w.Messages) > 0 {
			s.e.wake()
		}
		if n := st.Missed - missed; n > 0 {
			s.log.Warn("embedded: schedule missed slots older than its catch-up window (no worker ran then)",
				"schedule", sc.ID, "missed", n, "catchup_window", st.window())
		}
		s.log.Debug("embedded: schedule fired", "schedule", sc.ID, "started", created)
		return p.next, wait, sc.Version + 1, nil
	}
}
