package core

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/cloudbutton/cloudbutton/codec"
)

// ErrCanceled is returned by a cancelable wait once the orchestration was
// asked to terminate.
var ErrCanceled = errors.New("orchestration canceled")

// DefaultVersion is what GetVersion returns for code that ran before the
// change it guards (history has no marker for it).
const DefaultVersion = 0

// Info describes the running orchestration.
type Info struct {
	InstanceID       string
	Name             string
	ParentInstanceID string
	// Generation counts continue-as-new restarts, from 0.
	Generation int
	// RunID is unique to the run: each continue-as-new generation and each
	// reuse of the instance id has its own.
	RunID string
}

// RetryPolicy says how an activity (or sub-orchestration) is retried.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts; 0 or 1 means no retry.
	MaxAttempts int `json:"maxAttempts,omitempty"`
	// InitialInterval is the delay before the second attempt (default 1s).
	InitialInterval time.Duration `json:"initialInterval,omitempty"`
	// BackoffCoefficient multiplies the delay after each attempt (default 2).
	BackoffCoefficient float64 `json:"backoffCoefficient,omitempty"`
	// MaxInterval caps the delay (default 100 x InitialInterval).
	MaxInterval time.Duration `json:"maxInterval,omitempty"`
	// NonRetryableErrorTypes lists failure types that are never retried.
	NonRetryableErrorTypes []string `json:"nonRetryableErrorTypes,omitempty"`
}

// NeverRetried are the failure types no retry policy retries: retrying
// cannot fix them.
var NeverRetried = []string{FailureActivityNotFound, FailureDecode, FailureEncode, FailurePayloadTooLarge, FailureCanceled}

// Backoff returns the policy's intervals with their defaults applied:
// initial 1s, coefficient 2, maximum 100 x initial.
func (p *RetryPolicy) Backoff() (initial time.Duration, coefficient float64, maxInterval time.Duration) {
	initial, coefficient, maxInterval = p.InitialInterval, p.BackoffCoefficient, p.MaxInterval
	if initial <= 0 {
		initial = time.Second
	}
	if coefficient < 1 {
		coefficient = 2
	}
	if maxInterval <= 0 {
		maxInterval = 100 * initial
	}
	return initial, coefficient, maxInterval
}

// Delay returns the backoff before attempt number next (2 for the first
// retry).
func (p *RetryPolicy) Delay(next int) time.Duration {
	if p == nil || next < 2 {
		return 0
	}
	initial, coef, maxI := p.Backoff()
	d := float64(initial) * math.Pow(coef, float64(next-2))
	if d > float64(maxI) {
		return maxI
	}
	return time.Duration(d)
}

// ShouldRetry reports whether an attempt that ended in f is retried.
func (p *RetryPolicy) ShouldRetry(attempt int, f *Failure) bool {
	if p == nil || f == nil || f.NonRetryable || attempt >= p.MaxAttempts {
		return false
	}
	return !slices.Contains(NeverRetried, f.Type) && !slices.Contains(p.NonRetryableErrorTypes, f.Type)
}

// Validate reports a policy that no engine can follow: a negative count
// or interval, a coefficient below 1 (or not a number), or a MaxInterval
// below the initial interval (its default included).
func (p *RetryPolicy) Validate() error {
	switch {
	case p.MaxAttempts < 0:
		return fmt.Errorf("MaxAttempts %d is negative", p.MaxAttempts)
	case p.InitialInterval < 0:
		return fmt.Errorf("InitialInterval %s is negative", p.InitialInterval)
	case math.IsNaN(p.BackoffCoefficient) || math.IsInf(p.BackoffCoefficient, 0):
		return fmt.Errorf("BackoffCoefficient %g is not a finite number", p.BackoffCoefficient)
	case p.BackoffCoefficient != 0 && p.BackoffCoefficient < 1:
		return fmt.Errorf("BackoffCoefficient %g is below 1", p.BackoffCoefficient)
	case p.MaxInterval < 0:
		return fmt.Errorf("MaxInterval %s is negative", p.MaxInterval)
	}
	if initial, _, _ := p.Backoff(); p.MaxInterval > 0 && p.MaxInterval < initial {
		return fmt.Errorf("MaxInterval %s is below InitialInterval %s", p.MaxInterval, initial)
	}
	return nil
}

// ActivityOptions are the per-call options of an activity.
type ActivityOptions struct {
	Retry *RetryPolicy `json:"retry,omitempty"`
	// StartToClose bounds each attempt; 0 means the worker's default.
	StartToClose time.Duration `json:"startToClose,omitempty"`
	// HeartbeatTimeout fails an attempt that stops heartbeating.
	HeartbeatTimeout time.Duration `json:"heartbeatTimeout,omitempty"`
	// Key names what the call's attempts count against in the worker's
	// per-key limits (a downstream dependency, a tenant); empty: none.
	Key string `json:"key,omitempty"`
}

// SubOptions are the options of a sub-orchestration call.
type SubOptions struct {
	// InstanceID of the child; empty means "<parent>:<task id>".
	InstanceID string `json:"instanceId,omitempty"`
}

// Waitable is anything a coroutine can wait on: engine futures, and the
// derived futures of the public API (All, Go). Ready must be cheap and
// deterministic.
type Waitable interface {
	// Ready reports whether the result is available.
	Ready() bool
}

// Future is an engine-level result: bytes or a failure.
type Future interface {
	Waitable
	// Result returns the result; valid once Ready.
	Result() ([]byte, *Failure)
}

// Promise is a Future that orchestrator-side code settles itself.
type Promise interface {
	Future
	Resolve(data []byte, f *Failure)
}

// Context is what an engine implements for orchestrator code. One Context
// belongs to one coroutine; Go gives the new coroutine its own.
// Implementations embed Sealed.
type Context interface {
	Info() Info
	Codec() codec.Codec
	Limits() codec.Limits
	Now() time.Time
	IsReplaying() bool
	Logger() *slog.Logger
	// Canceled reports whether terminate was requested.
	Canceled() bool
	// Cancelable reports whether waits on this context end on cancellation.
	Cancelable() bool
	// WithoutCancel returns a context whose waits ignore cancellation,
	// for clean-up and compensation.
	WithoutCancel() Context

	ScheduleActivity(name string, input []byte, opts ActivityOptions) Future
	NewTimer(d time.Duration) Future
	// WaitEvent resolves with the next event of that name, or a
	// FailureTimeout failure after timeout (0: wait forever).
	WaitEvent(name string, timeout time.Duration) Future
	CallSubOrchestration(name string, input []byte, opts SubOptions) Future
	SideEffect(fn func() ([]byte, error)) ([]byte, *Failure)
	// GetVersion returns the version recorded for changeID, maxSupported
	// when new, DefaultVersion for code that ran before the change. It
	// ends the orchestration with a nondeterminism failure when the
	// recorded version is outside [minSupported, maxSupported].
	GetVersion(changeID string, minSupported, maxSupported int) int
	NewUUID() string
	SetCustomStatus(data []byte)
	// SetQueryHandler registers (or, with nil, removes) the query handler
	// of that name.
	SetQueryHandler(name string, h QueryHandler)
	// SetUpdateHandler registers (or, with a nil Handle, removes) the
	// update handler of that name.
	SetUpdateHandler(name string, h UpdateHandler)

	// Go starts fn as a new coroutine of the orchestration.
	Go(fn func(Context))
	NewPromise() Promise
	// Wait blocks until one of ws is ready and returns its index. On a
	// cancelable context it returns ErrCanceled once cancel was requested.
	Wait(ws ...Waitable) (int, error)

	sealed()
}

// Sealed is embedded by engine Context implementations; code outside this
// module cannot implement Context.
type Sealed struct{}

func (Sealed) sealed() {}

// OrchestratorDef is a registered orchestrator, type-erased.
type OrchestratorDef interface {
	Name() string
	// Execute runs the orchestrator on ctx with the encoded input and
	// returns the encoded output. A *ContinueAsNewError error asks for a
	// restart with new input.
	Execute(ctx Context, input []byte) ([]byte, error)
}

// definitionOf is set by package orchestration: see SetDefinitionOf.
var definitionOf func(any) OrchestratorDef

// SetDefinitionOf is called once, by package orchestration when it is
// initialised, with the function that returns what engines run for one
// of its Definitions. orchestration.Definition is sealed, so that no
// internal type shows in its signature; this is how engines reach inside.
func SetDefinitionOf(f func(def any) OrchestratorDef) { definitionOf = f }

// DefinitionOf returns what engines run for an orchestration.Definition.
func DefinitionOf(def any) OrchestratorDef { return definitionOf(def) }

// ContinueAsNewError ends a run and starts the orchestration again with
// Input; KeepEvents carries unconsumed external events over.
type ContinueAsNewError struct {
	Input      []byte
	KeepEvents bool
}

// Error describes the request.
func (e *ContinueAsNewError) Error() string { return "orchestration continued as new" }
