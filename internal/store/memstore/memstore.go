// Package memstore is an in-memory store.Store: the store of the unit-test
// harness, which runs the embedded engine's own step processing over it. It
// keeps the SQLite store's semantics (the storetest suite proves it) but
// nothing survives the process.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/billing"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

// Store is safe for concurrent use.
type Store struct {
	mu         sync.Mutex
	instances  map[string]*store.Instance
	history    map[string][]replay.Event
	earlier    map[string][][]replay.Event // runs before continue-as-new
	inbox      []store.Message             // by id
	nextID     int64
	attempts   map[string]map[int64]store.Attempt
	registered []string
	// quarantined are the instances set aside (Quarantine).
	quarantined map[string]bool
	// schedules are kept by schedule.go.
	schedules map[string]*store.Schedule
	// startKeys are the keys of deduplicated and debounced starts.
	startKeys map[string]startKey
	locked    bool
	closed    bool
	now       func() time.Time
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.WorkerProber = (*Store)(nil)
)

// New returns an empty store whose commits read the time from now (nil:
// time.Now), as the harness's virtual clock.
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{instances: map[string]*store.Instance{}, history: map[string][]replay.Event{},
		earlier: map[string][][]replay.Event{}, attempts: map[string]map[int64]store.Attempt{}, now: now}
}

var errClosed = errors.New("memstore: closed")

func (s *Store) lock() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	return nil
}

func copyInstance(in *store.Instance) *store.Instance {
	cp := *in
	return &cp
}

// CreateInstance implements store.Store.
func (s *Store) CreateInstance(_ context.Context, inst store.Instance, start store.Message, replace bool) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	return s.create(inst, start, replace)
}

// create is CreateInstance with s.mu held.
func (s *Store) create(inst store.Instance, start store.Message, replace bool) error {
	if _, ok := s.instances[inst.ID]; ok {
		if !replace {
			return fmt.Errorf("%w: %q", store.ErrAlreadyExists, inst.ID)
		}
		s.purge(inst.ID)
	}
	s.instances[inst.ID] = copyInstance(&inst)
	start.InstanceID = inst.ID
	s.add(start)
	return nil
}

func (s *Store) purge(id string) {
	delete(s.instances, id)
	delete(s.earlier, id)
	delete(s.history, id)
	delete(s.attempts, id)
	s.inbox = slices.DeleteFunc(s.inbox, func(m store.Message) bool { return m.InstanceID == id })
}

func (s *Store) add(m store.Message) {
	s.nextID++
	m.ID = s.nextID
	s.inbox = append(s.inbox, m)
}

// Instance implements store.Store.
func (s *Store) Instance(_ context.Context, id string) (*store.Instance, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", store.ErrNotFound, id)
	}
	return copyInstance(in), nil
}

// List implements store.Store.
func (s *Store) List(_ context.Context, f store.Filter) ([]*store.Instance, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []*store.Instance
	for _, in := range s.instances {
		switch {
		case f.Name != "" && in.Name != f.Name,
			len(f.Statuses) > 0 && !slices.Contains(f.Statuses, in.Status),
			!f.CreatedAfter.IsZero() && !in.CreatedAt.After(f.CreatedAfter),
			!f.CreatedBefore.IsZero() && !in.CreatedAt.Before(f.CreatedBefore),
			f.ParentID != "" && in.ParentID != f.ParentID,
			f.After != nil && !listedAfter(in, f.After):
			continue
		}
		out = append(out, copyInstance(in))
	}
	slices.SortFunc(out, func(a, b *store.Instance) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// listedAfter reports whether in comes after k in List's order.
func listedAfter(in *store.Instance, k *store.ListKey) bool {
	if c := in.CreatedAt.Compare(k.CreatedAt); c != 0 {
		return c < 0
	}
	return in.ID > k.ID
}

// History implements store.Store.
func (s *Store) History(_ context.Context, id string) ([]replay.Event, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return slices.Clone(s.history[id]), nil
}

// EarlierRuns returns the histories of the runs of an instance before its
// current one (continue-as-new), oldest first: the harness replays them.
func (s *Store) EarlierRuns(id string) [][]replay.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.earlier[id])
}

// AddMessages implements store.Store.
func (s *Store) AddMessages(_ context.Context, msgs ...store.Message) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for _, m := range msgs {
		s.add(m)
	}
	return nil
}

// hosts reports whether the worker's registration covers name.
func (s *Store) hosts(name string) bool {
	return len(s.registered) == 0 || slices.Contains(s.registered, name)
}

// ReadyMessages implements store.Store.
func (s *Store) ReadyMessages(_ context.Context, now time.Time, limit int, skip map[int64]bool) ([]store.Message, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []store.Message
	for _, m := range s.inbox {
		if len(out) >= limit {
			break
		}
		in := s.instances[m.InstanceID]
		if skip[m.ID] || m.VisibleAt.After(now) || in == nil || in.Status == store.StatusSuspended || !s.hosts(in.Name) || s.quarantined[in.ID] {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// NextVisible implements store.Store.
func (s *Store) NextVisible(_ context.Context, now time.Time) (time.Time, error) {
	if err := s.lock(); err != nil {
		return time.Time{}, err
	}
	defer s.mu.Unlock()
	var next time.Time
	for _, m := range s.inbox {
		if m.VisibleAt.After(now) && (next.IsZero() || m.VisibleAt.Before(next)) {
			next = m.VisibleAt
		}
	}
	return next, nil
}

// Commit implements store.Store: every step or none.
func (s *Store) Commit(_ context.Context, steps []store.Step) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	// Check first, so that a failed batch changes nothing.
	creating := map[string]bool{}
	for i := range steps {
		st := &steps[i]
		if st.Purge {
			creating[st.InstanceID] = false
		}
		for _, in := range st.NewInstances {
			exists, known := creating[in.ID]
			if (known && exists) || (!known && s.instances[in.ID] != nil) {
				return fmt.Errorf("memstore: commit of %q: %w: %q", st.InstanceID, store.ErrAlreadyExists, in.ID)
			}
			creating[in.ID] = true
		}
	}
	now := s.now()
	for i := range steps {
		s.step(&steps[i], now)
	}
	return nil
}

func (s *Store) step(st *store.Step, now time.Time) {
	id := st.InstanceID
	if st.Purge {
		s.purge(id)
	}
	if st.ResetHistory {
		if h := s.history[id]; len(h) > 0 {
			s.earlier[id] = append(s.earlier[id], h)
		}
		delete(s.history, id)
	}
	if st.DropPending {
		s.inbox = slices.DeleteFunc(s.inbox, func(m store.Message) bool { return m.InstanceID == id && m.VisibleAt.After(now) })
	}
	s.history[id] = append(s.history[id], st.Events...)
	if len(st.ConsumedMessages) > 0 {
		s.inbox = slices.DeleteFunc(s.inbox, func(m store.Message) bool { return slices.Contains(st.ConsumedMessages, m.ID) })
	}
	for _, in := range st.NewInstances {
		s.instances[in.ID] = copyInstance(&in)
	}
	for _, m := range st.NewMessages {
		s.add(m)
	}
	for _, task := range st.ClearAttempts {
		delete(s.attempts[id], task)
	}
	for _, a := range st.Attempts {
		if s.attempts[id] == nil {
			s.attempts[id] = map[int64]store.Attempt{}
		}
		s.attempts[id][a.TaskID] = a
	}
	if st.ResetHistory || (st.Update != nil && st.Update.Completed) {
		delete(s.attempts, id) // last: written in this step too
	}
	if in := s.instances[id]; in != nil && !st.Usage.IsZero() {
		in.Usage = in.Usage.Add(st.Usage)
	}
	if st.Update != nil {
		s.update(id, st.Update, now)
	}
}

func (s *Store) update(id string, u *store.Update, now time.Time) {
	in := s.instances[id]
	if in == nil {
		return
	}
	in.UpdatedAt = now.UTC()
	if u.Progress != nil {
		in.ActivitiesDone, in.ActivitiesTotal = u.Progress.Done, u.Progress.Total
	}
	switch {
	case u.Status == "":
	case u.Status == store.StatusRunning && in.Status == store.StatusSuspended: // a client suspended it meanwhile
	default:
		in.Status = u.Status
	}
	if u.Output != nil {
		in.Output = u.Output
	}
	if u.Failure != nil {
		in.Failure = u.Failure
	}
	if u.CustomStatus != nil {
		in.CustomStatus = u.CustomStatus
	}
	if u.Generation > 0 {
		in.Generation, in.Input, in.Output, in.Failure = u.Generation, u.Input, nil, nil
	}
	if u.Completed {
		in.CompletedAt = now.UTC()
	}
}

// SetStatus implements store.Store.
func (s *Store) SetStatus(_ context.Context, id string, from []string, to string) error {
	if len(from) == 0 {
		return errors.New("memstore: SetStatus: no from status")
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return fmt.Errorf("%w: %q", store.ErrNotFound, id)
	}
	if !slices.Contains(from, in.Status) {
		return fmt.Errorf("memstore: instance %q is %s, not %s", id, in.Status, strings.Join(from, " or "))
	}
	in.Status, in.UpdatedAt = to, s.now().UTC()
	return nil
}

// Purge implements store.Store.
func (s *Store) Purge(_ context.Context, id string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return fmt.Errorf("%w: %q", store.ErrNotFound, id)
	}
	if !store.Terminal(in.Status) {
		return fmt.Errorf("memstore: instance %q is %s; terminate it before purging", id, in.Status)
	}
	s.purge(id)
	return nil
}

// SubUsage implements store.Store, as the SQLite store does.
func (s *Store) SubUsage(_ context.Context, id string) (billing.Usage, error) {
	if err := s.lock(); err != nil {
		return billing.Usage{}, err
	}
	defer s.mu.Unlock()
	var sum billing.Usage
	seen := map[string]bool{id: true}
	level := []string{id}
	for len(level) > 0 {
		var next []string
		for _, in := range s.instances {
			if seen[in.ID] || in.ParentID == "" || !slices.Contains(level, in.ParentID) {
				continue
			}
			if parent := s.instances[in.ParentID]; parent != nil && in.CreatedAt.Before(parent.CreatedAt) {
				continue // a child of a run the parent replaced
			}
			seen[in.ID] = true
			sum = sum.Add(in.Usage)
			next = append(next, in.ID)
		}
		level = next
	}
	return sum, nil
}

// Attempts implements store.Store.
func (s *Store) Attempts(_ context.Context, id string) (map[int64]store.Attempt, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := map[int64]store.Attempt{}
	for k, v := range s.attempts[id] {
		out[k] = v
	}
	return out, nil
}

// SetRegistered implements store.Store.
func (s *Store) SetRegistered(_ context.Context, names []string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.registered = slices.Compact(slices.Sorted(slices.Values(names)))
	s.quarantined = nil
	for _, in := range s.instances {
		switch in.Status {
		case store.StatusPending, store.StatusRunning, store.StatusSuspended:
			in.Blocked = ""
			if !slices.Contains(s.registered, in.Name) {
				in.Blocked = fmt.Sprintf("orchestrator %q is not registered on the worker", in.Name)
			}
		}
	}
	return nil
}

// Registered implements store.Store.
func (s *Store) Registered(context.Context) ([]string, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return slices.Clone(s.registered), nil
}

// WorkerRunning implements store.WorkerProber.
func (s *Store) WorkerRunning() (bool, error) {
	if err := s.lock(); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	return s.locked, nil
}

// LockWorker implements store.Store: one worker per store.
func (s *Store) LockWorker() (func(), error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if s.locked {
		return nil, errors.New("memstore: a worker is already running on this store")
	}
	s.locked = true
	return func() {
		s.mu.Lock()
		s.locked = false
		s.mu.Unlock()
	}, nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// Quarantine implements store.Store.
func (s *Store) Quarantine(_ context.Context, id, reason string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	in := s.instances[id]
	if in == nil {
		return store.ErrNotFound
	}
	if s.quarantined == nil {
		s.quarantined = map[string]bool{}
	}
	s.quarantined[id] = true
	in.Blocked = store.QuarantineReason(reason)
	return nil
}

// SuspendedSince implements store.Store.
func (s *Store) SuspendedSince(_ context.Context, since time.Time) ([]string, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var ids []string
	for id, in := range s.instances {
		if in.Status == store.StatusSuspended && !in.UpdatedAt.Before(since) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}
