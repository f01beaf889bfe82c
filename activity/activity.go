package activity

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// Activity is a named, typed unit of work that runs as a FaaS invocation.
// Define activities once, at package level, with New; an *Activity is
// immutable and safe for concurrent use.
type Activity[In, Out any] struct {
	name string
	fn   func(context.Context, In) (Out, error)
}

// New defines an activity: a name that is unique among a worker's
// activities, and a function that takes a context.Context first.
func New[In, Out any](name string, fn func(ctx context.Context, in In) (Out, error)) *Activity[In, Out] {
	if name == "" {
		panic("activity.New: empty name")
	}
	if fn == nil {
		panic(fmt.Sprintf("activity.New(%q): nil function", name))
	}
	return &Activity[In, Out]{name: name, fn: fn}
}

// Name returns the activity's registered name.
func (a *Activity[In, Out]) Name() string { return a.name }

// Run calls the activity function directly, typed, with no encoding.
func (a *Activity[In, Out]) Run(ctx context.Context, in In) (Out, error) { return a.fn(ctx, in) }

// Execute decodes input with c, runs the activity and encodes its result.
// It never panics: a panic becomes an error of type "Panic" with the
// stack; undecodable input and unencodable or oversized results become
// non-retryable errors that name the problem. Its errors are *Error: an
// error of the activity function that is not one becomes one of type
// "Error" (or of the type of the *Error it wraps), its Cause. Engines and FaaS adapters
// call Execute; user code rarely needs to.
func (a *Activity[In, Out]) Execute(ctx context.Context, c codec.Codec, lim codec.Limits, input []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &Error{Type: core.FailurePanic, Message: fmt.Sprintf("activity %q panicked: %v", a.name, r), Stack: string(debug.Stack())}
		}
	}()
	in, derr := codec.DecodeNamed[In](c, "input of activity", a.name, input)
	if derr != nil {
		return nil, &Error{Type: core.FailureDecode, Message: derr.Error(), NonRetryable: true, Cause: derr}
	}
	res, err := a.fn(ctx, in)
	if err != nil {
		return nil, errorOf(err)
	}
	out, eerr := codec.EncodeNamed(c, lim, "result of activity", a.name, res)
	if eerr != nil {
		typ := core.FailureEncode
		if _, ok := eerr.(*codec.SizeError); ok {
			typ = core.FailurePayloadTooLarge
		}
		return nil, &Error{Type: typ, Message: eerr.Error(), NonRetryable: true, Cause: eerr}
	}
	return out, nil
}

// Definition is an activity with its types erased, as workers and FaaS
// hosts register it. *Activity implements it.
type Definition interface {
	Name() string
	Execute(ctx context.Context, c codec.Codec, lim codec.Limits, input []byte) ([]byte, error)
}

var _ Definition = (*Activity[int, int])(nil)
