package temporal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	tclient "go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Defaults of Options.
const (
	DefaultHostPort             = "127.0.0.1:7233"
	DefaultNamespace            = "default"
	DefaultTaskQueue            = "cloudbutton"
	DefaultMaxPendingActivities = 1000
	DefaultBatchSize            = 500
	// BatchWorkflowName is the Temporal workflow type that runs a batch of
	// a large fan-out's activities as a child of the orchestration.
	BatchWorkflowName = "cloudbutton.batch"
	// CustomStatusQuery is the query that returns an orchestration's
	// custom status (its codec bytes).
	CustomStatusQuery = "custom-status"
)

// ErrUnsupported is matched (errors.Is) by operations the Temporal engine
// does not support; it also matches errors.ErrUnsupported.
var ErrUnsupported = fmt.Errorf("temporal: unsupported on the Temporal engine: %w", errors.ErrUnsupported)

// Options configures the Temporal engine. The zero value connects to a
// dev server on 127.0.0.1:7233, namespace "default", task queue
// "cloudbutton", with the JSON codec.
type Options struct {
	// HostPort is the frontend address of the Temporal cluster.
	HostPort string
	// Namespace is the Temporal namespace.
	Namespace string
	// TaskQueue is the task queue that workers poll and clients start on.
	TaskQueue string
	// Codec encodes payloads (default codec.JSON). It must be the same on
	// workers and clients.
	Codec codec.Codec
	// Limits bounds payload sizes.
	Limits codec.Limits
	// Logger receives the engine's logs and, outside replay, the
	// orchestrators' logs (default slog.Default()).
	Logger *slog.Logger
	// MaxPendingActivities is how many activities one orchestration keeps
	// pending directly; beyond it, further activities of a fan-out run in
	// child workflows of BatchSize activities each (default 1,000; Temporal
	// refuses more than 2,000 pending activities per workflow).
	MaxPendingActivities int
	// BatchSize is the number of activities per batch child workflow
	// (default 500).
	BatchSize int
	// ActivityPollers and WorkflowPollers are the worker's concurrent
	// task pollers (default 8 and 4): more pollers than the SDK's default
	// of 2 keep a large fan-out's activities flowing.
	ActivityPollers int
	WorkflowPollers int
	// DeadlockTimeout is how long orchestrator code may run without
	// yielding before Temporal reports a deadlock (TMPRL1101) and retries
	// the workflow task (default 5s; the SDK's own 1s is too tight for
	// the first step of a large fan-out on a busy machine).
	DeadlockTimeout time.Duration
	// ConnectTimeout bounds Open's connection check (default 10s).
	ConnectTimeout time.Duration
	// CheckNames makes StartRaw refuse (client.ErrUnknownName) a name
	// that no worker started on this engine registered, when there are
	// such workers. Off by default: as on Temporal, the client starts any
	// name and the instance waits for a worker that hosts it (another
	// fleet on the task queue, or the next version of a rolling deploy).
	CheckNames bool
	// HeartbeatInterval is how often the worker heartbeats the running
	// activity attempts that do not heartbeat themselves (in-process
	// activities without a heartbeat timeout, remote invocations).
	// Temporal tells an attempt that it was cancelled (Terminate) only
	// in the response to a heartbeat, which then cancels its context
	// (default 1s).
	HeartbeatInterval time.Duration
	// TerminateWait bounds how long Terminate waits for the instance and
	// its children to act on the cancellation, so that no queued attempt
	// starts after it returns, and how long Suspend and Resume wait for
	// a worker to act on them (default 30s; negative: do not wait). With
	// no worker running, the request stays pending and the call returns
	// after this wait.
	TerminateWait time.Duration
}

func (o Options) withDefaults() Options {
	if o.HostPort == "" {
		o.HostPort = DefaultHostPort
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.TaskQueue == "" {
		o.TaskQueue = DefaultTaskQueue
	}
	if o.Codec == nil {
		o.Codec = codec.JSON
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxPendingActivities <= 0 {
		o.MaxPendingActivities = DefaultMaxPendingActivities
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.ActivityPollers <= 0 {
		o.ActivityPollers = 8
	}
	if o.WorkflowPollers <= 0 {
		o.WorkflowPollers = 4
	}
	if o.DeadlockTimeout <= 0 {
		o.DeadlockTimeout = 5 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = time.Second
	}
	if o.TerminateWait == 0 {
		o.TerminateWait = 30 * time.Second
	}
	return o
}

func (o Options) validate() error {
	switch {
	case o.MaxPendingActivities > 2000:
		return fmt.Errorf("temporal: MaxPendingActivities %d is over Temporal's limit of 2000 pending activities per workflow", o.MaxPendingActivities)
	case o.BatchSize > 2000:
		return fmt.Errorf("temporal: BatchSize %d is over Temporal's limit of 2000 pending activities per workflow", o.BatchSize)
	}
	return nil
}

// Engine runs orchestrations as Temporal workflows. It implements
// worker.Engine (host workers with worker.New) and client.Client. It is
// safe for concurrent use.
type Engine struct {
	opts Options
	tc   tclient.Client
	log  *slog.Logger

	mu     sync.Mutex
	closed bool
	// regs are the registries of the workers started on this engine;
	// with CheckNames, StartRaw checks names against them.
	regs []*worker.Registry
	// stops stop those workers (Close stops them first).
	stops []func(context.Context) error
}

var (
	_ worker.Engine = (*Engine)(nil)
	_ client.Client = (*Engine)(nil)
)

// Open connects to the Temporal cluster and checks that it answers.
func Open(ctx context.Context, opts Options) (*Engine, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	tc, err := tclient.DialContext(dctx, tclient.Options{
		HostPort:           opts.HostPort,
		Namespace:          opts.Namespace,
		DataConverter:      DataConverter(opts.Codec),
		ContextPropagators: propagators(),
		Logger:             tlog.NewStructuredLogger(opts.Logger.With("component", "temporal-sdk")),
	})
	if err != nil {
		return nil, fmt.Errorf("temporal: connect to %s (namespace %q): %w", opts.HostPort, opts.Namespace, err)
	}
	return &Engine{opts: opts, tc: tc, log: opts.Logger}, nil
}

// Options returns the effective options.
func (e *Engine) Options() Options { return e.opts }

// TemporalClient returns the underlying Temporal SDK client, for features
// the engine-neutral API does not cover.
func (e *Engine) TemporalClient() tclient.Client { return e.tc }

// Codec returns the payload codec.
func (e *Engine) Codec() codec.Codec { return e.opts.Codec }

// Close stops the workers started on the engine (up to 10 seconds for
// their work in flight), then closes the connection: the same order as the
// embedded engine's Close.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	stops := append([]func(context.Context) error(nil), e.stops...)
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, stop := range stops { // as the embedded engine: workers first
		errs = append(errs, stop(ctx))
	}
	e.tc.Close()
	return errors.Join(errs...)
}

// checkName returns client.ErrUnknownName, with Options.CheckNames, when
// workers run on this engine and none registered name. Otherwise (and on
// a client-only engine) any name starts; its workflow tasks fail, and are
// retried, until a worker that hosts it runs it.
func (e *Engine) checkName(name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.opts.CheckNames || len(e.regs) == 0 {
		return nil
	}
	var names []string
	for _, r := range e.regs {
		if _, ok := r.Orchestrator(name); ok {
			return nil
		}
		names = append(names, r.OrchestratorNames()...)
	}
	return fmt.Errorf("%w: %q (registered: %v)", client.ErrUnknownName, name, names)
}

func (e *Engine) checkOpen() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return client.ErrEngineClosed
	}
	return nil
}
