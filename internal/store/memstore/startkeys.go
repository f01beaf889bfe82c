package memstore

import (
	"context"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/store"
)

// startKey is who holds a start key, until when.
type startKey struct {
	instance string
	expires  time.Time
}

// CreateKeyed implements store.Store.
func (s *Store) CreateKeyed(_ context.Context, inst store.Instance, start store.Message, replace bool, key store.StartKey) (string, error) {
	if err := s.lock(); err != nil {
		return "", err
	}
	defer s.mu.Unlock()
	if k, ok := s.startKeys[key.Key]; ok && k.expires.After(key.Now) {
		if holder, live := s.instances[k.instance]; live {
			if !key.Debounce {
				return k.instance, nil
			}
			if s.debounce(holder, start, key) {
				s.startKeys[key.Key] = startKey{instance: k.instance, expires: key.Expires}
				return k.instance, nil
			}
		}
	}
	if err := s.create(inst, start, replace); err != nil {
		return "", err
	}
	if s.startKeys == nil {
		s.startKeys = map[string]startKey{}
	}
	s.startKeys[key.Key] = startKey{instance: inst.ID, expires: key.Expires}
	return inst.ID, nil
}

// debounce moves the holder's start, if it has not started, to start.
func (s *Store) debounce(holder *store.Instance, start store.Message, key store.StartKey) bool {
	if holder.Status != store.StatusPending {
		return false
	}
	for i := range s.inbox {
		m := &s.inbox[i]
		if m.InstanceID != holder.ID || !m.VisibleAt.After(key.Now) {
			continue
		}
		ev := start.Event
		ev.InstanceID, ev.Generation = holder.ID, holder.Generation
		m.Event, m.VisibleAt = ev, start.VisibleAt
		holder.Input, holder.UpdatedAt = ev.Payload, key.Now
		return true
	}
	return false
}
