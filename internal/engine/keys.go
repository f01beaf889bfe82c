package engine

import (
	"time"

	"github.com/cloudbutton/cloudbutton/internal/keylimit"
	"github.com/cloudbutton/cloudbutton/worker"
)

// keyLimits holds the attempts of keyed calls (orchestration.WithKey)
// back until their key has room: fewer than its MaxInFlight running, and
// a token of its rate. Each key takes its waiting instances in turn, one
// attempt each (round robin), so a large fan-out does not starve a small
// instance. Its state is guarded by the runner's mutex.
//
// An attempt takes its key's slot when it leaves its key's queue for the
// runner's, and gives it back when the pool goroutine is done with it
// (run, parked, cancelled or failed as interrupted), so the bound covers
// the attempts a reset abandoned until they actually end. Waiting
// attempts are not outstanding work: the harness's virtual clock moves
// on to the rate's next token, as it does to a retry's due time.
//
// A worker's buckets start empty (a restart does not burst past the
// rate), and its counts at zero: the attempts of a stopped worker ended
// with it (see runner.shutdown).
type keyLimits struct {
	set  *keylimit.Set
	keys map[string]*keyState
}

// keyState is one key's limit, count and queue.
type keyState struct {
	key      string
	limit    keylimit.Limit
	bucket   *keylimit.Bucket // nil: no rate
	inFlight int
	// byInstance queues waiting attempts per instance; order is the
	// round of instances with waiting attempts.
	byInstance map[string][]task
	order      []string
	waiting    int
	wake       Timer // the rate's next token, when pending
}

// newKeyLimits returns nil when there are no limits: unkeyed work (and
// all work then) takes the runner's path unchanged.
func newKeyLimits(ls []worker.KeyLimit) *keyLimits {
	if len(ls) == 0 {
		return nil
	}
	in := make([]keylimit.Limit, len(ls))
	for i, l := range ls {
		in[i] = keylimit.Limit{Pattern: l.Key, MaxInFlight: l.MaxInFlight, PerSecond: l.PerSecond, Burst: l.Burst}
	}
	set, err := keylimit.NewSet(in)
	if err != nil || set == nil {
		return nil // worker.Start validated them
	}
	return &keyLimits{set: set, keys: map[string]*keyState{}}
}

// taskKey is the key of a task's call, "" for none.
func taskKey(t *task) string {
	if t.ev.Options == nil {
		return ""
	}
	return t.ev.Options.Key
}

// state returns the state of key at now, nil if no limit matches it.
func (k *keyLimits) state(key string, now time.Time) *keyState {
	if ks := k.keys[key]; ks != nil {
		return ks
	}
	l, ok := k.set.Lookup(key)
	if !ok {
		return nil
	}
	ks := &keyState{key: key, limit: l, byInstance: map[string][]task{}}
	if l.PerSecond > 0 {
		ks.bucket = keylimit.NewBucket(l, now)
	}
	k.keys[key] = ks
	return ks
}

// limited reports whether t's attempt waits for its key's room, and
// queues it there if so. Called with r.mu held.
func (r *runner) limited(t task) bool {
	if r.keys == nil || t.canceled || t.interrupted {
		return false
	}
	key := taskKey(&t)
	if key == "" {
		return false
	}
	ks := r.keys.state(key, r.clock.Now())
	if ks == nil {
		return false
	}
	if _, ok := ks.byInstance[t.instanceID]; !ok {
		ks.order = append(ks.order, t.instanceID)
	}
	ks.byInstance[t.instanceID] = append(ks.byInstance[t.instanceID], t)
	ks.waiting++
	r.pumpKey(ks)
	return true
}

// pumpKey moves the waiting attempts of ks that have room into the
// runner's queue, in round-robin order of their instances; when the rate
// is the bound, it sets a timer for the next token. Called with r.mu held.
func (r *runner) pumpKey(ks *keyState) {
	for ks.waiting > 0 && !r.closed && (ks.limit.MaxInFlight == 0 || ks.inFlight < ks.limit.MaxInFlight) {
		if ks.bucket != nil {
			if ks.wake != nil {
				return
			}
			ok, wait := ks.bucket.Take(r.clock.Now())
			if !ok {
				var tm Timer
				tm = r.clock.AfterFunc(wait, func() {
					r.mu.Lock()
					defer r.mu.Unlock()
					if ks.wake == tm {
						ks.wake = nil
						r.pumpKey(ks)
					}
				})
				ks.wake = tm
				return
			}
		}
		id := ks.order[0]
		q := ks.byInstance[id]
		t := q[0]
		q[0] = task{}
		ks.order = ks.order[1:]
		if len(q) == 1 {
			delete(ks.byInstance, id)
		} else {
			ks.byInstance[id] = q[1:]
			ks.order = append(ks.order, id) // its next attempt waits its turn
		}
		ks.waiting--
		ks.inFlight++
		t.keySlot = true
		r.queue = append(r.queue, t)
		r.p.work.add(1)
		r.cond.Signal()
	}
}

// keyDone gives back the slot of an attempt the pool is done with.
func (r *runner) keyDone(t *task) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.freeSlot(t)
}

// freeSlot is keyDone with r.mu held; t no longer holds a slot after it.
func (r *runner) freeSlot(t *task) {
	if !t.keySlot {
		return
	}
	t.keySlot = false
	ks := r.keys.keys[taskKey(t)]
	ks.inFlight--
	r.pumpKey(ks)
}

// dropQueuedSlots gives back the slots of the attempts in the runner's
// queue, which reset forgets (without moving waiting ones: they are
// forgotten too). Called with r.mu held.
func (r *runner) dropQueuedSlots() {
	if r.keys == nil {
		return
	}
	for i := range r.queue {
		if t := &r.queue[i]; t.keySlot {
			t.keySlot = false
			r.keys.keys[taskKey(t)].inFlight--
		}
	}
}

// cancelKeyed takes the waiting attempts of instance id that m covers
// out of their keys' queues. Called with r.mu held.
func (r *runner) cancelKeyed(id string, m cancelMark) []task {
	if r.keys == nil {
		return nil
	}
	var out []task
	for _, ks := range r.keys.keys {
		q, ok := ks.byInstance[id]
		if !ok {
			continue
		}
		kept := q[:0]
		for _, t := range q {
			if m.covers(&t) {
				out = append(out, t)
			} else {
				kept = append(kept, t)
			}
		}
		ks.waiting -= len(q) - len(kept)
		if len(kept) > 0 {
			ks.byInstance[id] = kept
			continue
		}
		delete(ks.byInstance, id)
		for i, o := range ks.order {
			if o == id {
				ks.order = append(ks.order[:i], ks.order[i+1:]...)
				break
			}
		}
	}
	return out
}

// dropKeyed forgets every waiting attempt (reset, shutdown); the slots of
// attempts in flight are given back as they end. Called with r.mu held.
func (r *runner) dropKeyed() {
	if r.keys == nil {
		return
	}
	for _, ks := range r.keys.keys {
		clear(ks.byInstance)
		ks.order, ks.waiting = nil, 0
		if ks.wake != nil {
			ks.wake.Stop()
			ks.wake = nil
		}
	}
}

// waitingKeyed counts the attempts waiting for their keys. Called with
// r.mu held.
func (r *runner) waitingKeyed() int {
	if r.keys == nil {
		return 0
	}
	n := 0
	for _, ks := range r.keys.keys {
		n += ks.waiting
	}
	return n
}
