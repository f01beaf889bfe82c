package orchestration

import (
	"fmt"

	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// Orchestrator is a named, typed orchestrator function. Define
// orchestrators once, at package level, with New; an *Orchestrator is
// immutable and safe for concurrent use.
type Orchestrator[In, Out any] struct {
	name string
	fn   func(Context, In) (Out, error)
}

func init() {
	core.SetDefinitionOf(func(def any) core.OrchestratorDef { return def.(Definition).runner() })
}

// New defines an orchestrator: a name unique among a worker's
// orchestrators, and a deterministic function.
func New[In, Out any](name string, fn func(ctx Context, in In) (Out, error)) *Orchestrator[In, Out] {
	if name == "" {
		panic("orchestration.New: empty name")
	}
	if fn == nil {
		panic(fmt.Sprintf("orchestration.New(%q): nil function", name))
	}
	return &Orchestrator[In, Out]{name: name, fn: fn}
}

// Name returns the registered name.
func (o *Orchestrator[In, Out]) Name() string { return o.name }

// runner returns what engines run: Execute.
func (o *Orchestrator[In, Out]) runner() core.OrchestratorDef { return runner[In, Out]{o} }

// runner runs an orchestrator on an engine context.
type runner[In, Out any] struct{ o *Orchestrator[In, Out] }

func (r runner[In, Out]) Name() string { return r.o.name }

// Execute runs the orchestrator on an engine context with encoded input
// and returns its encoded output.
func (r runner[In, Out]) Execute(c core.Context, input []byte) ([]byte, error) {
	o := r.o
	in, err := codec.DecodeNamed[In](c.Codec(), "input of orchestration", o.name, input)
	if err != nil {
		return nil, &decodeFailure{err}
	}
	out, err := o.fn(wrap(c), in)
	if err != nil {
		return nil, err
	}
	return codec.EncodeNamed(c.Codec(), c.Limits(), "output of orchestration", o.name, out)
}

// Definition is an orchestrator with its types erased, as workers register
// it. *Orchestrator implements it; no other type can.
type Definition interface {
	// Name returns the registered name.
	Name() string
	runner() core.OrchestratorDef
}

type decodeFailure struct{ err error }

func (d *decodeFailure) Error() string { return d.err.Error() }
func (d *decodeFailure) Unwrap() error { return d.err }
func (d *decodeFailure) Failure() *core.Failure {
	return &core.Failure{Type: core.FailureDecode, Message: d.err.Error(), NonRetryable: true}
}
