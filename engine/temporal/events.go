package temporal

import (
	"fmt"
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
	workflow.Go(disc, func(c workflow.Context) {
		ch := workflow.GetSignalChannel(c, name)
		for {
			var data []byte
			ch.Receive(c, &data)
			st.deliver(q, data)
		}
	})
	return q
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

func (c *tctx) WaitEvent(name string, timeout time.Duration) core.Future {
	st := c.st
	st.nextSeq()
	q := st.queue(name)
	p := &promise{}
	if len(q.buf) > 0 {
		data := q.buf[0]
		q.buf = q.buf[1:]
		p.Resolve(data, nil)
		return p
	}
	w := &eventWaiter{p: p}
	q.waiters = append(q.waiters, w)
	if timeout > 0 {
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
			p.Resolve(nil, &core.Failure{Type: core.FailureTimeout, NonRetryable: true,
				Message: fmt.Sprintf("no event %q within %s", name, timeout)})
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
