package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/store"
)

// pending is work applied to live instances in memory but not yet
// committed, with what to do once it is.
//
// Commits are pipelined: while one batch is being written, the processor
// goes on applying new events (on top of the uncommitted state) into the
// next batch, and activities start as soon as they are scheduled. Nothing
// leaves the process before its commit lands: clients read only the store,
// waiters are woken, inbox messages are released and messages to other
// instances become visible after it. A crash loses only uncommitted work,
// which replay from the store redoes (activities run again: at least once).
type pending struct {
	steps     []store.Step
	msgs      []int64 // inbox messages consumed
	pinned    []*live // instances with steps in this batch
	flushed   []*live // instances whose progress counters it writes
	evict     []string
	finished  []string
	pokeSelf  bool
	nextTimer time.Time
	now       time.Time
	starts    []*startRequest
	after     []func(committed bool)
}

// add merges a processed batch.
func (pb *pending) add(b *batch, msgs []store.Message) {
	pb.steps = append(pb.steps, b.steps...)
	for i := range msgs {
		pb.msgs = append(pb.msgs, msgs[i].ID)
	}
	pb.pinned = append(pb.pinned, b.pinned...)
	pb.flushed = append(pb.flushed, b.flushed...)
	pb.evict = append(pb.evict, b.evict...)
	pb.finished = append(pb.finished, b.finished...)
	pb.pokeSelf = pb.pokeSelf || b.pokeSelf
	pb.after = append(pb.after, b.after...)
	if !b.nextTimer.IsZero() && (pb.nextTimer.IsZero() || b.nextTimer.Before(pb.nextTimer)) {
		pb.nextTimer = b.nextTimer
	}
	pb.now = b.now
}

// committer writes batches, one at a time, in order.
func (p *processor) committer() {
	for pb := range p.commitReq {
		p.commitDone <- p.commit(pb.steps)
	}
}

// The back-off of commits that fail for want of storage.
const (
	storageRetryFirst = 100 * time.Millisecond
	storageRetryMax   = 10 * time.Second
)

// commit writes steps. A commit that failed for want of storage (a full
// disk, an I/O error, a read-only file: store.ErrStorage) had no effect,
// so it is retried as it was, with back-off, until it lands or the worker
// stops: nothing is lost and no activity runs again. That is said once
// when it starts failing and once when it is back, not on every retry.
func (p *processor) commit(steps []store.Step) error {
	delay := storageRetryFirst
	for retries := 0; ; retries++ {
		var t0 time.Time
		if p.tel != nil && p.tel.Metrics {
			t0 = time.Now()
		}
		err := p.st.Commit(p.ctx, steps)
		if !t0.IsZero() {
			p.tel.CommitDone(p.ctx, t0)
		}
		if err == nil {
			if retries > 0 {
				p.log.Info("embedded: commits resumed: the storage is back", "retries", retries, "store", p.e.name())
			}
			return nil
		}
		if !errors.Is(err, store.ErrStorage) || p.ctx.Err() != nil {
			return err
		}
		if retries == 0 {
			p.log.Error("embedded: a commit failed for want of storage; retrying it with back-off until the storage is back (nothing is lost meanwhile)",
				"err", err, "store", p.e.name(), "max_backoff", storageRetryMax)
		}
		wake := make(chan struct{})
		t := p.e.clock.AfterFunc(delay, func() { close(wake) })
		select {
		case <-wake:
		case <-p.ctx.Done():
			t.Stop()
			return err
		}
		delay = min(2*delay, storageRetryMax)
	}
}

// maybeCommit hands the accumulated batch to the committer if it is idle.
func (p *processor) maybeCommit() {
	if p.inCommit != nil || p.acc == nil {
		return
	}
	p.inCommit, p.acc = p.acc, nil
	p.work.add(1)
	p.commitReq <- p.inCommit
}

// committed acts on the end of the batch being written.
func (p *processor) committed(err error) {
	pb := p.inCommit
	p.inCommit = nil
	for _, id := range pb.msgs {
		delete(p.inflight, id)
	}
	for _, l := range pb.pinned {
		l.pins--
	}
	for _, r := range pb.starts {
		r.reply <- err
	}
	for _, f := range pb.after {
		f(err == nil)
	}
	if err != nil {
		p.commitFailed(pb, err)
		return
	}
	for _, l := range pb.flushed {
		l.flushed = pb.now
	}
	for _, id := range pb.evict {
		p.cache.remove(id)
	}
	for _, l := range pb.pinned {
		if l.pins == 0 && l.evictWhenUnpinned {
			p.cache.remove(l.id)
			p.releaseStatusWaiters(l.id)
		}
	}
	if len(pb.finished) > 0 {
		p.e.notifyDone(pb.finished)
	}
	if pb.pokeSelf {
		p.poke()
	}
	if !pb.nextTimer.IsZero() && (p.nextTimer.IsZero() || pb.nextTimer.Before(p.nextTimer)) {
		p.nextTimer = pb.nextTimer
	}
	if p.pollAfterCommit {
		// Now, before the next batch starts committing: under steady
		// load one always is, and the inbox would starve.
		p.pollAfterCommit = false
		p.poll()
	}
	p.maybeCommit()
}

// commitFailed drops everything not committed (the failed batch and the
// one built on top of it), rebuilds the live instances from the store and
// runs again the activities whose results were lost.
func (p *processor) commitFailed(pb *pending, err error) {
	p.log.Error("embedded: commit failed; uncommitted steps are redone from the store", "err", err, "steps", len(pb.steps))
	if acc := p.acc; acc != nil {
		p.acc = nil
		for _, id := range acc.msgs {
			delete(p.inflight, id)
		}
		for _, r := range acc.starts {
			r.reply <- fmt.Errorf("embedded: not started, an earlier commit failed: %w", err)
		}
		for _, f := range acc.after {
			f(false)
		}
	}
	p.cache.clear()
	p.releaseStatusWaiters("")
	p.runner.reset()
	if err := p.recover(p.ctx); err != nil {
		p.log.Error("embedded: recovery after a failed commit", "err", err)
	}
	p.poke()
}

// flush waits until every batch is committed (at stop).
func (p *processor) flush() {
	for {
		p.maybeCommit()
		if p.inCommit == nil {
			return
		}
		p.committed(<-p.commitDone)
	}
}
