package orchestration

import (
	"errors"
	"fmt"

	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// Future is the typed result of an asynchronous step: an activity, a timer,
// an event, a sub-orchestration, a fan-in or a coroutine. Futures are
// values; copies share the same result. The zero Future is invalid.
type Future[T any] struct{ s *futureState[T] }

// Awaitable is any Future, whatever its type, for Any.
type Awaitable interface {
	waitable() core.Waitable
}

type futureState[T any] struct {
	w    core.Waitable
	get  func() (T, error) // called once, when w is ready
	done bool
	val  T
	err  error
}

func (f Future[T]) waitable() core.Waitable {
	if f.s == nil {
		return readyWaitable{}
	}
	return f.s.w
}

// Ready reports whether Await would return without blocking.
func (f Future[T]) Ready() bool { return f.s == nil || f.s.done || f.s.w.Ready() }

// Await blocks the calling coroutine until the result is available and
// returns it. On a canceled context it returns ErrCanceled without waiting
// (an already available result is still returned).
func (f Future[T]) Await(ctx Context) (T, error) {
	var zero T
	if f.s == nil {
		return zero, errors.New("orchestration: Await on a zero Future")
	}
	if !f.s.done && !f.s.w.Ready() {
		if _, err := ctx.engine().Wait(f.s.w); err != nil {
			return zero, err
		}
	}
	return f.s.result()
}

func (s *futureState[T]) result() (T, error) {
	if !s.done {
		s.val, s.err = s.get()
		s.done = true
		s.get = nil
	}
	return s.val, s.err
}

type readyWaitable struct{}

func (readyWaitable) Ready() bool { return true }

// failed returns a Future that is already failed with err.
func failed[T any](err error) Future[T] {
	var zero T
	return Future[T]{&futureState[T]{w: readyWaitable{}, done: true, val: zero, err: err}}
}

// fromEngine wraps an engine future whose bytes decode into T.
func fromEngine[T any](c core.Context, f core.Future, kind, name string) Future[T] {
	return Future[T]{&futureState[T]{w: f, get: func() (T, error) {
		data, fail := f.Result()
		if fail != nil {
			var zero T
			return zero, failureError(kind, name, fail)
		}
		return codec.DecodeNamed[T](c.Codec(), resultOf(kind), name, data)
	}}}
}

// Any blocks until one of the futures is ready and returns its index (the
// lowest such index). The futures may have different types; Await the one
// returned to get its value.
func Any(ctx Context, fs ...Awaitable) (int, error) {
	if len(fs) == 0 {
		return -1, errors.New("orchestration.Any: no futures")
	}
	ws := make([]core.Waitable, len(fs))
	for i, f := range fs {
		if f == nil {
			return -1, fmt.Errorf("orchestration.Any: future %d is nil", i)
		}
		ws[i] = f.waitable()
		if ws[i].Ready() {
			return i, nil
		}
	}
	return ctx.engine().Wait(ws...)
}

// allWaitable is ready when every child is; it remembers how far it got, so
// checking it after each of N completions costs O(N) in all.
type allWaitable[T any] struct {
	fs   []Future[T]
	next int
}

func (a *allWaitable[T]) Ready() bool {
	for a.next < len(a.fs) && a.fs[a.next].Ready() {
		a.next++
	}
	return a.next == len(a.fs)
}

// All returns a Future of every result, in order. It waits for all the
// futures; if any failed, its error is the lowest-indexed failure, as an
// *IndexedError.
func All[T any](ctx Context, fs ...Future[T]) Future[[]T] {
	w := &allWaitable[T]{fs: fs}
	return Future[[]T]{&futureState[[]T]{w: w, get: func() ([]T, error) {
		out := make([]T, len(fs))
		for i, f := range fs {
			v, err := f.Await(ctx)
			if err != nil {
				return nil, &IndexedError{Index: i, Total: len(fs), Err: err}
			}
			out[i] = v
		}
		return out, nil
	}}}
}

// Go runs fn as an orchestration-scoped coroutine and returns a Future of
// its result. Coroutines are scheduled deterministically by the engine: one
// runs at a time and switches only when it waits. fn's context keeps the
// default call options of ctx (WithCallOptions). A panic in fn fails the
// orchestration.
func Go[T any](ctx Context, fn func(ctx Context) (T, error)) Future[T] {
	c := ctx.engine()
	p := c.NewPromise()
	var val T
	var ferr error
	c.Go(func(cc core.Context) {
		val, ferr = fn(derive(ctx, cc))
		p.Resolve(nil, nil)
	})
	return Future[T]{&futureState[T]{w: p, get: func() (T, error) { return val, ferr }}}
}

func resultOf(kind string) string {
	switch kind {
	case kindActivity:
		return "result of activity"
	case kindSub:
		return "result of sub-orchestration"
	case kindEvent:
		return "payload of"
	}
	return "result of " + kind
}
