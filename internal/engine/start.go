package engine

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

// errNoWorker tells the client to create the instance itself.
var errNoWorker = errors.New("embedded: no worker")

// startRequest is a new instance that a client of this process hands to
// the worker, so that its creation and first step share a group commit
// with other work instead of contending for the write lock.
type startRequest struct {
	inst    store.Instance
	event   replay.Event
	replace bool // the id exists: purge the old run first
	reply   chan error
}

// create hands a new instance to the processor and waits for its commit.
func (p *processor) create(ctx context.Context, inst store.Instance, start replay.Event, replace bool) error {
	r := &startRequest{inst: inst, event: start, replace: replace, reply: make(chan error, 1)}
	p.work.add(1)
	select {
	case p.startCh <- r:
	case <-p.stopCh:
		p.work.done(1)
		return errNoWorker
	case <-ctx.Done():
		p.work.done(1)
		return ctx.Err()
	}
	select {
	case err := <-r.reply:
		if errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("%w: %q", client.ErrAlreadyExists, inst.ID)
		}
		return err
	case <-p.exited:
		// Stopped before the commit: the instance exists only if it was
		// committed; tell which.
		if _, err := p.st.Instance(context.WithoutCancel(ctx), inst.ID); err == nil {
			return nil
		}
		return fmt.Errorf("embedded: the worker stopped before %q was created", inst.ID)
	case <-ctx.Done():
		return ctx.Err() // it may still be created
	}
}

func (p *processor) gatherStarts(starts []*startRequest) []*startRequest {
	for len(starts) < maxBatch {
		select {
		case r := <-p.startCh:
			starts = append(starts, r)
		default:
			return starts
		}
	}
	return starts
}

// admit checks a start request and prepares its live instance; a refused
// one is answered at once.
func (p *processor) admit(b *batch, r *startRequest) bool {
	id := r.inst.ID
	_, dup := b.creates[id]
	if r.replace && !dup {
		// Steps of the old run already applied are committed before the
		// purge (batches commit in order); its work stops, and its late
		// results are dropped by generation.
		p.cache.remove(id)
		p.runner.cancelInstance(id, r.inst.Generation-1, math.MaxInt64)
	} else if !dup && p.cache.get(id) == nil {
		_, err := p.st.Instance(p.ctx, id)
		switch {
		case err == nil:
			dup = true
		case !errors.Is(err, store.ErrNotFound):
			r.reply <- err
			return false
		}
	} else {
		dup = true
	}
	if dup {
		r.reply <- store.ErrAlreadyExists
		return false
	}
	def, ok := p.reg.Orchestrator(r.inst.Name)
	if !ok {
		r.reply <- fmt.Errorf("%w: %q", client.ErrUnknownName, r.inst.Name)
		return false
	}
	if b.creates == nil {
		b.creates = map[string]store.Instance{}
	}
	b.creates[id] = r.inst
	if r.replace {
		if b.replaces == nil {
			b.replaces = map[string]bool{}
		}
		b.replaces[id] = true
	}
	b.starts = append(b.starts, r)
	p.cache.put(&live{id: id, x: replay.New(core.DefinitionOf(def), p.ropts), generation: r.inst.Generation, status: store.StatusPending, flushed: p.e.clock.Now()})
	return true
}
