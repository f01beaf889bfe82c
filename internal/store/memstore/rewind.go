package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

var _ store.Rewinder = (*Store)(nil)

// Rewind implements store.Rewinder: all or nothing.
func (s *Store) Rewind(_ context.Context, rewrites []store.Rewrite, purge []string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for _, r := range rewrites {
		in := s.instances[r.InstanceID]
		if in == nil {
			return fmt.Errorf("memstore: rewind: %w: %q", store.ErrNotFound, r.InstanceID)
		}
		if in.Status != r.Status || in.Generation != r.Generation {
			return fmt.Errorf("memstore: rewind: %w: %q is %s (generation %d)", store.ErrInstanceChanged, r.InstanceID, in.Status, in.Generation)
		}
	}
	for _, id := range purge {
		if in := s.instances[id]; in != nil && !store.Terminal(in.Status) {
			return fmt.Errorf("memstore: rewind: %w: %q is %s", store.ErrInstanceChanged, id, in.Status)
		}
	}
	now := s.now().UTC()
	for _, id := range purge {
		s.purge(id)
	}
	for _, r := range rewrites {
		id := r.InstanceID
		in := s.instances[id]
		in.Status, in.Output, in.Failure, in.CompletedAt, in.UpdatedAt = store.StatusPending, nil, nil, time.Time{}, now
		in.ActivitiesDone, in.ActivitiesTotal = r.Progress.Done, r.Progress.Total
		s.history[id] = slices.Clone(r.History)
		delete(s.attempts, id)
		s.inbox = slices.DeleteFunc(s.inbox, func(m store.Message) bool { return m.InstanceID == id })
		for _, m := range r.Messages {
			m.InstanceID = id
			s.add(m)
		}
	}
	return nil
}

// Parked implements store.Rewinder.
func (s *Store) Parked(_ context.Context, id string) ([]replay.Event, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []replay.Event
	for _, m := range s.inbox {
		if m.InstanceID == id && !m.VisibleAt.Before(store.Parked) {
			out = append(out, m.Event)
		}
	}
	return out, nil
}
