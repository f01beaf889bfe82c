// Package worker hosts orchestrators and activities on an engine: the
// embedded SQLite engine (engine/embedded) or Temporal (engine/temporal).
//
//	eng, err := embedded.Open(ctx, "app.db", embedded.Options{})
//	w := worker.New(eng, worker.Options{})
//	w.RegisterOrchestrators(WordCount)
//	w.RegisterActivities(SplitInput, CountWords)
//	if err := w.Start(ctx); err != nil { ... }
//	defer w.Stop(context.Background())
//
// Activities run through a faas.Invoker: in-process by default, or AWS
// Lambda / the local function host when Options.Invoker says so. Each
// attempt's context carries a usage reporter (faas.WithUsageReporter):
// what the invoker reports the attempt was billed is recorded with its
// outcome, and client.Status.Usage shows the sum.
//
// With Options.TracerProvider and Options.MeterProvider the worker emits
// OpenTelemetry spans (one per orchestration run, one per activity
// attempt, the attempt's span in the activity's ctx) and metrics, on
// either engine; see package telemetry. Without them it emits nothing and
// pays nothing.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// ErrDuplicateName is returned when two definitions share a name.
var ErrDuplicateName = errors.New("worker: duplicate registration")

// ErrFrozen is returned by a registration after the worker started: what a
// worker hosts is fixed for its lifetime.
var ErrFrozen = errors.New("worker: registrations are frozen once the worker started")

// Registry maps names to orchestrators and activities. It is safe for
// concurrent use.
type Registry struct {
	mu            sync.RWMutex
	orchestrators map[string]orchestration.Definition
	activities    map[string]activity.Definition
	frozen        bool
}

// freeze refuses later registrations.
func (r *Registry) freeze() {
	r.mu.Lock()
	r.frozen = true
	r.mu.Unlock()
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{orchestrators: map[string]orchestration.Definition{}, activities: map[string]activity.Definition{}}
}

// AddOrchestrators registers orchestrators by name.
func (r *Registry) AddOrchestrators(defs ...orchestration.Definition) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozen {
		return fmt.Errorf("%w: orchestrators %s", ErrFrozen, names(defs))
	}
	for _, d := range defs {
		if d == nil {
			return errors.New("worker: nil orchestrator")
		}
		if _, dup := r.orchestrators[d.Name()]; dup {
			return fmt.Errorf("%w: orchestrator %q", ErrDuplicateName, d.Name())
		}
		r.orchestrators[d.Name()] = d
	}
	return nil
}

// AddActivities registers activities by name.
func (r *Registry) AddActivities(defs ...activity.Definition) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozen {
		return fmt.Errorf("%w: activities %s", ErrFrozen, names(defs))
	}
	for _, d := range defs {
		if d == nil {
			return errors.New("worker: nil activity")
		}
		if _, dup := r.activities[d.Name()]; dup {
			return fmt.Errorf("%w: activity %q", ErrDuplicateName, d.Name())
		}
		r.activities[d.Name()] = d
	}
	return nil
}

// Orchestrator returns the orchestrator registered as name.
func (r *Registry) Orchestrator(name string) (orchestration.Definition, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, ok := r.orchestrators[name]
	return d, ok
}

// Activity returns the activity registered as name.
func (r *Registry) Activity(name string) (activity.Definition, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, ok := r.activities[name]
	return d, ok
}

// OrchestratorNames lists registered orchestrator names, sorted.
func (r *Registry) OrchestratorNames() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.orchestrators))
	for n := range r.orchestrators {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ActivityDefinitions returns the registered activities, sorted by name.
func (r *Registry) ActivityDefinitions() []activity.Definition {
	r.mu.RLock()
	defer r.mu.RUnlock()
	defs := make([]activity.Definition, 0, len(r.activities))
	for _, d := range r.activities {
		defs = append(defs, d)
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name() < defs[j].Name() })
	return defs
}

// Options configures a Worker. The zero value is usable.
type Options struct {
	// Invoker runs activity attempts; nil means in-process over the
	// registered activities.
	Invoker faas.Invoker
	// MaxConcurrentActivities bounds activities in flight (default 256).
	MaxConcurrentActivities int
	// DefaultStartToClose bounds an activity attempt that set no timeout
	// (default 10 minutes).
	DefaultStartToClose time.Duration
	// CacheSize bounds the live orchestration instances kept in memory
	// between steps (default 10,000; least recently used are evicted). On
	// Temporal it sets the SDK's sticky workflow cache, which is shared by
	// every worker of the process.
	CacheSize int
	// Logger receives the worker's logs (default slog.Default()).
	Logger *slog.Logger
	// TracerProvider, when set, traces the worker's orchestrations: a span
	// per orchestration run and per activity attempt (see package
	// telemetry for names, attributes and how runs span processes).
	// Activity spans nest under their run's span when this worker runs the
	// run from start to end; build it with
	// sdktrace.WithIDGenerator(telemetry.IDGenerator{}) for them to nest
	// always (several workers, restarts). Nil: no tracing, at no cost.
	TracerProvider trace.TracerProvider
	// MeterProvider, when set, receives the worker's metrics (see package
	// telemetry). Nil: no metrics, at no cost.
	MeterProvider metric.MeterProvider
	// KeyLimits bound the activity calls that name a key
	// (orchestration.WithKey): in flight and per second, over all
	// instances (see KeyLimit). Start refuses invalid ones with
	// ErrInvalidLimit. On Temporal, see the engine/temporal package doc
	// for what is global and what is per worker.
	KeyLimits []KeyLimit
}

// Defaults of Options, the same on every engine.
const (
	DefaultMaxConcurrentActivities = 256
	DefaultStartToClose            = 10 * time.Minute
	DefaultCacheSize               = 10000
)

// withDefaults fills in the defaults, so that every engine gets the same
// values.
func (o Options) withDefaults() Options {
	if o.MaxConcurrentActivities <= 0 {
		o.MaxConcurrentActivities = DefaultMaxConcurrentActivities
	}
	if o.DefaultStartToClose <= 0 {
		o.DefaultStartToClose = DefaultStartToClose
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Engine is implemented by engines that can host a worker. StartWorker
// gets Options with their defaults filled in.
type Engine interface {
	// StartWorker begins processing with reg until the returned stop
	// function is called. stop finishes in-flight work or leaves it to
	// be redelivered, then returns.
	StartWorker(ctx context.Context, reg *Registry, opts Options) (stop func(context.Context) error, err error)
}

// Worker hosts orchestrators and activities on an engine.
type Worker struct {
	eng  Engine
	opts Options
	reg  *Registry

	mu   sync.Mutex
	stop func(context.Context) error
}

// New returns a worker for eng; register definitions, then Start.
func New(eng Engine, opts Options) *Worker {
	return &Worker{eng: eng, opts: opts, reg: NewRegistry()}
}

// RegisterOrchestrators registers orchestrators; it panics on a duplicate
// or nil definition, a programming error.
func (w *Worker) RegisterOrchestrators(defs ...orchestration.Definition) {
	if err := w.reg.AddOrchestrators(defs...); err != nil {
		panic(err)
	}
}

// RegisterActivities registers activities; it panics on a duplicate or nil
// definition, a programming error.
func (w *Worker) RegisterActivities(defs ...activity.Definition) {
	if err := w.reg.AddActivities(defs...); err != nil {
		panic(err)
	}
}

// Registry returns the worker's registry.
func (w *Worker) Registry() *Registry { return w.reg }

// Start begins processing. It returns an error if the engine refuses (for
// example another worker already owns the embedded store).
func (w *Worker) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		return errors.New("worker: already started")
	}
	if err := validateLimits(w.opts.KeyLimits); err != nil {
		return err
	}
	w.reg.freeze()
	stop, err := w.eng.StartWorker(ctx, w.reg, w.opts.withDefaults())
	if err != nil {
		return err
	}
	w.stop = stop
	return nil
}

// Stop shuts the worker down gracefully: in-flight work finishes or is
// left to be redelivered; ctx bounds the wait.
func (w *Worker) Stop(ctx context.Context) error {
	w.mu.Lock()
	stop := w.stop
	w.stop = nil
	w.mu.Unlock()
	if stop == nil {
		return nil
	}
	return stop(ctx)
}

// names lists the names of definitions, for errors.
func names[D interface{ Name() string }](defs []D) string {
	out := make([]string, 0, len(defs))
	for _, d := range defs {
		if any(d) != nil {
			out = append(out, fmt.Sprintf("%q", d.Name()))
		}
	}
	return strings.Join(out, ", ")
}
