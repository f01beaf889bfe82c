package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cloudbutton/cloudbutton/internal/store"
)

var _ store.Schedules = (*Store)(nil)

// CreateSchedule implements store.Schedules.
func (s *Store) CreateSchedule(_ context.Context, id string, data []byte) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.schedules == nil {
		s.schedules = map[string]*store.Schedule{}
	}
	if _, ok := s.schedules[id]; ok {
		return fmt.Errorf("%w: schedule %q", store.ErrAlreadyExists, id)
	}
	s.schedules[id] = &store.Schedule{ID: id, Data: slices.Clone(data), Version: 1}
	return nil
}

// Schedule implements store.Schedules.
func (s *Store) Schedule(_ context.Context, id string) (*store.Schedule, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	sc, ok := s.schedules[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", store.ErrScheduleNotFound, id)
	}
	c := *sc
	c.Data = slices.Clone(sc.Data)
	return &c, nil
}

// Schedules implements store.Schedules.
func (s *Store) Schedules(context.Context) ([]*store.Schedule, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make([]*store.Schedule, 0, len(s.schedules))
	for _, sc := range s.schedules {
		c := *sc
		c.Data = slices.Clone(sc.Data)
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *store.Schedule) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// WriteSchedule implements store.Schedules.
func (s *Store) WriteSchedule(_ context.Context, w store.ScheduleWrite) ([]string, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	sc, ok := s.schedules[w.ID]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %q", store.ErrScheduleNotFound, w.ID)
	case sc.Version != w.Version:
		return nil, fmt.Errorf("%w: %q is at version %d, not %d", store.ErrConflict, w.ID, sc.Version, w.Version)
	}
	var created []string
	for _, st := range w.Starts {
		id := st.Instance.ID
		if _, ok := s.instances[id]; ok {
			continue
		}
		s.instances[id] = copyInstance(&st.Instance)
		st.Start.InstanceID = id
		s.add(st.Start)
		created = append(created, id)
	}
	for _, m := range w.Messages {
		s.add(m)
	}
	if w.Data == nil {
		delete(s.schedules, w.ID)
	} else {
		s.schedules[w.ID] = &store.Schedule{ID: w.ID, Data: slices.Clone(w.Data), Version: sc.Version + 1}
	}
	return created, nil
}
