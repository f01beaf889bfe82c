package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/handlerr"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

// Queries and updates.
//
// A query is posted to the processor (queryCh), which answers it from the
// live instance (cached, or rebuilt from history) between two batches,
// committing nothing. An update goes through the inbox like an event
// (UpdateAccepted, with a new update id), so that it is ordered with the
// instance's other messages; the step that applies it runs its validator
// on the live instance first. A refusal is answered at once and records
// nothing (the message is consumed); an accepted update is recorded and
// its handler runs as a coroutine; the step that records its
// UpdateCompleted answers the caller once committed. Either way the
// answer comes from the worker's memory, so both need the worker's
// process: a client of another process gets ErrNoWorkerHere.

// ErrNoWorkerHere is the error of a query or an update sent from a
// process where the engine's worker does not run: their answers come
// from the worker's memory. It matches client.ErrNotRunning too.
var ErrNoWorkerHere = fmt.Errorf("%w: queries and updates are answered by the worker's process, and no worker runs in this one (send them through that process, e.g. its HTTP API)", client.ErrNotRunning)

type handlerReply struct {
	data []byte
	err  error
}

// queryRequest is a query of a client of this process.
type queryRequest struct {
	id, name string
	arg      []byte
	reply    chan handlerReply
}

// updateWaiter is a client of this process waiting for its update.
type updateWaiter struct {
	instanceID, name string
	reply            chan handlerReply
	answered         func() // nil: none (see SendUpdate)
}

// answer hands rep over.
func (w *updateWaiter) answer(rep handlerReply) {
	if w.answered != nil {
		w.answered()
	}
	w.reply <- rep
}

// worker returns the processor of this process, nil if none runs.
func (e *Engine) worker() *processor {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.proc
}

func (e *Engine) checkHandlerRequest(ctx context.Context, what, id, name string, arg []byte) (*processor, error) {
	if name == "" {
		return nil, fmt.Errorf("embedded: %s: empty handler name", what)
	}
	if err := validText(what+" name", name); err != nil {
		return nil, err
	}
	if err := codec.CheckSize(e.limits(), fmt.Sprintf("argument of %s %q", what, name), arg); err != nil {
		return nil, err
	}
	in, err := e.instance(ctx, id)
	if err != nil {
		return nil, err
	}
	if store.Terminal(in.Status) {
		return nil, handlerr.New(client.ErrNotRunning, id, what, name, "the instance is "+in.Status)
	}
	p := e.worker()
	if p == nil {
		return nil, fmt.Errorf("embedded: %s %q of instance %q: %w", what, name, id, ErrNoWorkerHere)
	}
	return p, nil
}

// QueryRaw implements client.Client.
func (e *Engine) QueryRaw(ctx context.Context, id, name string, arg []byte) ([]byte, error) {
	p, err := e.checkHandlerRequest(ctx, "query", id, name, arg)
	if err != nil {
		return nil, err
	}
	r := &queryRequest{id: id, name: name, arg: arg, reply: make(chan handlerReply, 1)}
	p.work.add(1)
	select {
	case p.queryCh <- r:
	case <-p.stopCh:
		p.work.done(1)
		return nil, fmt.Errorf("embedded: query %q of instance %q: the worker stopped", name, id)
	case <-ctx.Done():
		p.work.done(1)
		return nil, ctx.Err()
	}
	select {
	case rep := <-r.reply:
		return rep.data, rep.err
	case <-p.exited:
		return nil, fmt.Errorf("embedded: query %q of instance %q: the worker stopped", name, id)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// query answers r on the processor's goroutine.
func (p *processor) query(r *queryRequest) {
	l, err := p.load(r.id)
	switch {
	case errors.Is(err, errNotHosted):
		err = fmt.Errorf("embedded: query %q of instance %q: %w", r.name, r.id, err)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		err = fmt.Errorf("embedded: query %q of instance %q: %w", r.name, r.id, err)
	case l == nil || err != nil:
		err = handlerr.New(client.ErrNotRunning, r.id, "query", r.name, "")
	default:
		var data []byte
		data, err = l.x.Query(r.name, r.arg)
		if err == nil {
			r.reply <- handlerReply{data: data}
			return
		}
		err = handlerr.ToClient(r.id, err)
	}
	r.reply <- handlerReply{err: err}
}

// UpdateRaw implements client.Client.
func (e *Engine) UpdateRaw(ctx context.Context, id, name string, arg []byte) ([]byte, error) {
	wait, err := e.SendUpdate(ctx, id, name, arg, nil)
	if err != nil {
		return nil, err
	}
	return wait(ctx)
}

// SendUpdate sends the update name with arg to instance id and returns
// the function that waits for its answer (UpdateRaw is the two in one);
// the test harness sends from its clock's callbacks and waits elsewhere.
// The answer is kept until wait takes it; a wait that ends with its ctx
// gives the answer up. answered, if not nil, is called when the answer
// is handed over, on the worker's goroutine, before the work that
// produced it counts as done (the harness's clock waits for its waiter).
func (e *Engine) SendUpdate(ctx context.Context, id, name string, arg []byte, answered func()) (wait func(context.Context) ([]byte, error), err error) {
	p, err := e.checkHandlerRequest(ctx, "update", id, name, arg)
	if err != nil {
		return nil, err
	}
	uid := newID()
	w := &updateWaiter{instanceID: id, name: name, reply: make(chan handlerReply, 1), answered: answered}
	e.mu.Lock()
	if e.updates == nil {
		e.updates = map[string]*updateWaiter{}
	}
	e.updates[uid] = w
	e.mu.Unlock()
	forget := func() {
		e.mu.Lock()
		delete(e.updates, uid)
		e.mu.Unlock()
	}
	if err := e.send(ctx, id, replay.Event{Type: replay.UpdateAccepted, Name: name, InstanceID: uid, Payload: arg}); err != nil {
		forget()
		if errors.Is(err, client.ErrNotRunning) {
			return nil, handlerr.New(client.ErrNotRunning, id, "update", name, err.Error())
		}
		return nil, err
	}
	return func(ctx context.Context) ([]byte, error) {
		defer forget()
		select {
		case rep := <-w.reply:
			return rep.data, rep.err
		case <-p.exited:
			return nil, fmt.Errorf("embedded: update %q of instance %q: the worker stopped before it was answered (it may still be applied)", name, id)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}, nil
}

// answerUpdate hands the answer of update uid to its waiter, if it is in
// this process.
func (e *Engine) answerUpdate(uid string, rep handlerReply) {
	e.mu.Lock()
	w := e.updates[uid]
	delete(e.updates, uid)
	e.mu.Unlock()
	if w != nil {
		w.answer(rep)
	}
}

// endUpdates answers the updates waiting on instances that ended: their
// handlers will not return.
func (e *Engine) endUpdates(ids []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.updates) == 0 {
		return
	}
	ended := map[string]bool{}
	for _, id := range ids {
		ended[id] = true
	}
	for uid, w := range e.updates {
		if ended[w.instanceID] {
			w.answer(handlerReply{err: handlerr.New(client.ErrNotRunning, w.instanceID, "update", w.name, "the instance ended before the update's handler returned")})
			delete(e.updates, uid)
		}
	}
}

// updatesOfStep answers the updates a step refused, and those whose
// events after the run's end were not applied.
func (b *batch) updatesOfStep(id string, res *replay.StepResult) {
	for _, r := range res.Rejected {
		b.p.e.answerUpdate(r.UpdateID, handlerReply{err: handlerr.ToClient(id, r.Err)})
	}
	for _, ev := range res.Unapplied {
		if ev.Type == replay.UpdateAccepted {
			b.p.e.answerUpdate(ev.UpdateID(), handlerReply{err: handlerr.New(client.ErrNotRunning, id, "update", ev.Name, "the run ended (or continued as new) before the update was applied; send it again")})
		}
	}
}

// updateCompleted answers the update of ev once its step is committed.
func (b *batch) updateCompleted(id string, ev *replay.Event) {
	uid, name, data, f := ev.UpdateID(), ev.Name, ev.Payload, ev.Failure
	e := b.p.e
	b.after = append(b.after, func(committed bool) {
		switch {
		case !committed: // the step is applied again from the inbox
		case f != nil:
			e.answerUpdate(uid, handlerReply{err: handlerr.UpdateFailed(id, name, f)})
		default:
			e.answerUpdate(uid, handlerReply{data: data})
		}
	})
}

// droppedUpdates answers the updates among the messages of an instance
// that has ended.
func (b *batch) droppedUpdates(g *group) {
	for _, m := range g.msgs {
		if m.Event.Type == replay.UpdateAccepted {
			b.p.e.answerUpdate(m.Event.UpdateID(), handlerReply{err: handlerr.New(client.ErrNotRunning, g.id, "update", m.Event.Name, "the instance ended before the update was applied")})
		}
	}
}
