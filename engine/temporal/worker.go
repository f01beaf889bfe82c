package temporal

import (
	"context"
	"fmt"
	"sync"

	tactivity "go.temporal.io/sdk/activity"
	tclient "go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	tworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/billing"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/telemetry"
	"github.com/cloudbutton/cloudbutton/worker"
)

// StartWorker implements worker.Engine: it polls the engine's task queue
// for the orchestrators (as workflows of the same names) and the
// activities of reg (through opts.Invoker, or in-process when nil).
func (e *Engine) StartWorker(ctx context.Context, reg *worker.Registry, opts worker.Options) (func(context.Context) error, error) {
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	if reg == nil {
		return nil, fmt.Errorf("temporal: StartWorker: nil registry")
	}
	if len(opts.KeyLimits) > 0 {
		// Refused rather than ignored: a limit the worker says it
		// enforces and does not would overload the dependency it guards.
		return nil, fmt.Errorf("%w: worker.Options.KeyLimits (per-key limits run on the embedded engine; see the package doc)", ErrUnsupported)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = e.log
	}
	if opts.CacheSize != worker.DefaultCacheSize {
		tworker.SetStickyWorkflowCacheSize(opts.CacheSize) // process-wide in the SDK
	}
	rt := e.newRuntime(reg)
	rt.log = logger
	rt.startToClose = opts.DefaultStartToClose
	if opts.TracerProvider != nil || opts.MeterProvider != nil {
		tel, err := telemetry.New("temporal", opts.TracerProvider, opts.MeterProvider, logger)
		if err != nil {
			return nil, fmt.Errorf("temporal: telemetry: %w", err)
		}
		rt.tel = tel
	}
	// The worker's own client (on the engine's connection) logs through
	// unknownNameLogger.
	wc, err := tclient.NewClientFromExisting(e.tc, tclient.Options{
		Namespace:          e.opts.Namespace,
		DataConverter:      DataConverter(e.opts.Codec),
		ContextPropagators: propagators(),
		Logger: &unknownNameLogger{Logger: tlog.NewStructuredLogger(e.log.With("component", "temporal-sdk")),
			u: newUnknownNames(logger, reg)},
	})
	if err != nil {
		return nil, fmt.Errorf("temporal: worker client: %w", err)
	}
	w := tworker.New(wc, e.opts.TaskQueue, tworker.Options{
		MaxConcurrentActivityExecutionSize: opts.MaxConcurrentActivities,
		WorkflowPanicPolicy:                tworker.FailWorkflow,
		DeadlockDetectionTimeout:           e.opts.DeadlockTimeout,
		MaxConcurrentActivityTaskPollers:   e.opts.ActivityPollers,
		MaxConcurrentWorkflowTaskPollers:   e.opts.WorkflowPollers,
		// Heartbeats without a heartbeat timeout reach the server (and
		// bring back a cancellation) every HeartbeatInterval, not 30s.
		DefaultHeartbeatThrottleInterval: e.opts.HeartbeatInterval,
	})
	// No dynamic workflow: see unknown.go.
	registerWorkflows(w, rt, reg)
	runner := &activityRunner{invoker: opts.Invoker, beat: e.opts.HeartbeatInterval, tel: rt.tel}
	if runner.invoker == nil {
		inv, err := faas.NewInProcess(reg.ActivityDefinitions(), faas.InProcessOptions{
			Codec: e.opts.Codec, Limits: e.opts.Limits, MaxConcurrent: opts.MaxConcurrentActivities,
		})
		if err != nil {
			wc.Close()
			return nil, fmt.Errorf("temporal: in-process invoker: %w", err)
		}
		runner.invoker = inv
	}
	_, runner.local = runner.invoker.(*faas.InProcess)
	runner.metered, runner.dc = billing.Reports(runner.invoker), rt.dataConverter()
	w.RegisterDynamicActivity(runner.run, tactivity.DynamicRegisterOptions{})
	unobserve, err := rt.tel.ObservePending(runner.running.value)
	if err != nil {
		wc.Close()
		return nil, fmt.Errorf("temporal: telemetry: %w", err)
	}
	if err := w.Start(); err != nil {
		unobserve()
		wc.Close()
		return nil, fmt.Errorf("temporal: start worker on task queue %q: %w", e.opts.TaskQueue, err)
	}
	var once sync.Once
	done := make(chan struct{})
	stop := func(ctx context.Context) error {
		once.Do(func() {
			go func() { w.Stop(); wc.Close(); unobserve(); rt.tel.Close(); close(done) }()
			e.mu.Lock()
			for i, r := range e.regs {
				if r == reg {
					e.regs = append(e.regs[:i], e.regs[i+1:]...)
					e.stops = append(e.stops[:i], e.stops[i+1:]...)
					break
				}
			}
			e.mu.Unlock()
		})
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("temporal: stop worker: %w", ctx.Err())
		}
	}
	e.mu.Lock()
	e.regs = append(e.regs, reg)
	e.stops = append(e.stops, stop)
	e.mu.Unlock()
	return stop, nil
}

func (e *Engine) newRuntime(reg *worker.Registry) *runtime {
	rt := &runtime{
		dc:         DataConverter(e.opts.Codec),
		codec:      e.opts.Codec,
		limits:     e.opts.Limits,
		log:        e.log,
		taskQueue:  e.opts.TaskQueue,
		maxPending: e.opts.MaxPendingActivities,
		batchSize:  e.opts.BatchSize,
	}
	if reg != nil {
		rt.hasOrch = func(name string) bool {
			_, ok := reg.Orchestrator(name)
			return ok
		}
	}
	return rt
}

// workflowRegistry is what tworker.Worker and tworker.WorkflowReplayer
// share.
type workflowRegistry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

func registerWorkflows(w workflowRegistry, rt *runtime, reg *worker.Registry) {
	for _, name := range reg.OrchestratorNames() {
		def, _ := reg.Orchestrator(name)
		w.RegisterWorkflowWithOptions(rt.orchestrationWorkflow(core.DefinitionOf(def)), workflow.RegisterOptions{Name: name})
	}
	w.RegisterWorkflowWithOptions(rt.batchWorkflow, workflow.RegisterOptions{Name: BatchWorkflowName})
}
