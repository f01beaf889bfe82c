package engine

import "sync/atomic"

// work counts the engine's outstanding internal work: pokes and timer
// ticks not yet handled, results and retry state on their way to the
// processor, starts and evictions not yet applied, commits in flight, and
// activity tasks queued or running. When it is zero, the engine waits for
// nothing but time and clients: the harness's virtual clock may move on.
//
// Each worker run (processor) has its own count, so that what a stopped
// worker left uncounted does not stay outstanding; they share the
// engine's progress counter and change signal.
type work struct {
	n        atomic.Int64
	progress *atomic.Uint64
	changed  chan struct{}
}

func (e *Engine) newWork() *work { return &work{progress: &e.progress, changed: e.changed} }

func (w *work) add(k int) { w.n.Add(int64(k)) }

func (w *work) done(k int) {
	if k == 0 {
		return
	}
	w.n.Add(int64(-k))
	w.progress.Add(1)
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// Outstanding returns the engine's outstanding internal work (see work)
// and a counter that moves on whenever some of it is done; Changed is
// signalled then. The harness uses them to drive its virtual clock.
func (e *Engine) Outstanding() (n int64, progress uint64) {
	e.mu.Lock()
	p := e.proc
	e.mu.Unlock()
	if p != nil {
		n = p.work.n.Load()
	}
	return n, e.progress.Load()
}

// Changed is signalled when outstanding work was done.
func (e *Engine) Changed() <-chan struct{} { return e.changed }
