package replay

import (
	"time"

	"github.com/cloudbutton/cloudbutton/internal/core"
)

// promise is the engine-level future of one action (or a settable one).
type promise struct {
	ready bool
	data  []byte
	fail  *core.Failure
	// kind is the incoming event family that resolves it ("" for
	// promises settled by code).
	kind   EventType
	onDone func()
}

var _ core.Promise = (*promise)(nil)

func (p *promise) Ready() bool                     { return p.ready }
func (p *promise) Result() ([]byte, *core.Failure) { return p.data, p.fail }

// Resolve settles a promise once; later calls are ignored.
func (p *promise) Resolve(data []byte, f *core.Failure) { p.resolve(data, f) }

func (p *promise) resolve(data []byte, f *core.Failure) {
	if p.ready {
		return
	}
	p.ready, p.data, p.fail = true, data, f
	if p.onDone != nil {
		fn := p.onDone
		p.onDone = nil
		fn()
	}
}

// accepts reports whether an incoming event of type t resolves p.
func (p *promise) accepts(t EventType) bool {
	switch p.kind {
	case ActivityScheduled:
		return t == ActivityCompleted || t == ActivityFailed
	case SubOrchestrationScheduled:
		return t == SubOrchestrationCompleted || t == SubOrchestrationFailed
	case TimerCreated:
		return t == TimerFired
	}
	return false
}

type buffered struct {
	name    string
	payload []byte
	arrival int64
}

// eventQueue buffers external events of one name and the waits for them,
// both first-in first-out.
type eventQueue struct {
	name    string
	buf     []buffered
	waiters []*promise
	// since holds, for each of waiters, when the code began the wait.
	since []time.Time
}

func (q *eventQueue) push(payload []byte, arrival int64) {
	for len(q.waiters) > 0 {
		w := q.waiters[0]
		q.waiters, q.since = q.waiters[1:], q.since[1:]
		if !w.ready { // not timed out
			w.resolve(payload, nil)
			return
		}
	}
	q.buf = append(q.buf, buffered{name: q.name, payload: payload, arrival: arrival})
}

func (q *eventQueue) pop() ([]byte, bool) {
	if len(q.buf) == 0 {
		return nil, false
	}
	b := q.buf[0]
	q.buf = q.buf[1:]
	return b.payload, true
}
