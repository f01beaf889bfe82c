package temporal

import (
	"runtime/debug"
	"sort"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/cloudbutton/cloudbutton/internal/core"
)

func debugStack() []byte { return debug.Stack() }

// eventQueue holds the external events (signals) of one name: events that
// arrived with no wait pending are buffered in order; waits pending with
// no event are served in order.
type eventQueue struct {
	buf     [][]byte
	waiters []*eventWaiter
}

type eventWaiter struct {
	p      *promise
	cancel workflow.CancelFunc // stops the timeout timer, if any
	since  time.Time           // when the code began the wait (workflow time)
}

// queue returns the queue of name, starting the coroutine that receives
// its signals on first use.
func (st *wfState) queue(name string) *eventQueue {
	if q, ok := st.events[name]; ok {
		return q
	}
	q := &eventQueue{buf: st.carried[name]}
	delete(st.carried, name)
	st.events[name] = q
	disc, _ := workflow.NewDisconnectedContext(st.root)
	ch := workflow.GetSignalChannel(st.root, name)
	if st.legacy {
		workflow.Go(disc, func(c workflow.Context) {
			for {
				var data []byte
				ch.Receive(c, &data)
				st.deliver(q, data)
			}
		})
		return q
	}
	// The coroutine leaves signals in the channel until it runs, so that
	// WaitEvent sees every signal delivered so far (drain).
	workflow.Go(disc, func(c workflow.Context) {
		for {
			_ = workflow.Await(c, func() bool { return ch.Len() > 0 })
			st.drain(q, ch)
		}
	})
	return q
}

// drain delivers the signals waiting in ch, in order.
func (st *wfState) drain(q *eventQueue, ch workflow.ReceiveChannel) {
	for {
		var data []byte
		if !ch.ReceiveAsync(&data) {
			return
		}
		st.deliver(q, data)
	}
}

func (st *wfState) deliver(q *eventQueue, data []byte) {
	if len(q.waiters) == 0 {
		q.buf = append(q.buf, data)
		return
	}
	w := q.waiters[0]
	q.waiters = q.waiters[1:]
	if w.cancel != nil {
		w.cancel()
	}
	w.p.Resolve(data, nil)
}

// WaitEvent follows the rules of internal/core: it takes a step only for
// the timer of a wait with a timeout; an event already delivered is taken
// at once, without a timer.
func (c *tctx) WaitEvent(name string, timeout time.Duration) core.Future {
	st := c.st
	if st.legacy {
		st.nextSeq()
	}
	q := st.queue(name)
	if !st.legacy {
		st.drain(q, workflow.GetSignalChannel(st.root, name))
	}
	p := &promise{}
	if len(q.buf) > 0 {
		data := q.buf[0]
		q.buf = q.buf[1:]
		p.Resolve(data, nil)
		return p
	}
	w := &eventWaiter{p: p, since: workflow.Now(st.root)}
	q.waiters = append(q.waiters, w)
	if timeout > 0 {
		if !st.legacy {
			st.nextSeq()
		}
		tctx, cancel := workflow.WithCancel(c.disc)
		w.cancel = cancel
		timer := workflow.NewTimer(tctx, timeout)
		workflow.Go(c.disc, func(cc workflow.Context) {
			if err := timer.Get(cc, nil); err != nil || p.done {
				return // the event came first
			}
			for i, x := range q.waiters {
				if x == w {
					q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
					break
				}
			}
			p.Resolve(nil, core.EventTimeout(name, timeout))
		})
	}
	return p
}

// unconsumedEvents returns the events that arrived and were not consumed,
// for continue-as-new with KeepUnprocessedEvents: the buffered ones and
// the signals no wait has received yet.
func (st *wfState) unconsumedEvents() map[string][][]byte {
	out := map[string][][]byte{}
	for name, evs := range st.carried {
		out[name] = append(out[name], evs...)
	}
	names := make([]string, 0, len(st.events))
	for name := range st.events {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if q := st.events[name]; len(q.buf) > 0 {
			out[name] = append(out[name], q.buf...)
		}
	}
	for _, name := range workflow.GetUnhandledSignalNames(st.root) {
		ch := workflow.GetSignalChannel(st.root, name)
		for {
			var data []byte
			if !ch.ReceiveAsync(&data) {
				break
			}
			out[name] = append(out[name], data)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
