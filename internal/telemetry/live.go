package telemetry

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudbutton/cloudbutton/internal/core"
)

// Live run spans. A tracer provider that makes its own span ids (one
// built without IDGenerator: the SDK's default) cannot give a run's span
// the id its attempts were made children of (RunSpanContext). So, with
// such a provider, the worker that first steps a run starts its span
// then (RunBegan, with the run's real start), keeps it in T.open, makes
// it the parent of the run's attempts and sub-orchestrations (RunParent),
// and ends it with the run (RunEnded). The engine says when a worker
// first steps a run: the embedded engine at its first step in the worker
// (its start, or its first after a restart) and at recovery; Temporal at
// its first workflow task, and at the first new command of a worker the
// workflow moved to. A run whose span this worker does not hold falls
// back to the ids of RunSpanContext, which such a provider does not
// honour: its attempts' spans point to a span never exported, and its
// span is emitted at its end. So spans nest always with IDGenerator, and
// with another provider when one worker process steps the run from start
// to end (from when it picked the run up, otherwise).
//
// Memory: T.open exists only when tracing with such a provider. A span
// leaves it when its run ends in this worker, or when another run of its
// instance begins (a start that replaces the instance, the next run on
// Temporal); runs that never end here (they moved to another process, or
// a Temporal server ended them without a workflow task) stay until Close, and at most maxLive
// spans are held: runs beyond fall back, warned about once. Close (at the
// worker's stop) drops the open spans without ending them: ending one
// would export a run span with a false end and no outcome, and a second
// span for the run when the worker that finishes it emits its own.

// maxLive bounds the run spans a worker holds (an SDK span is about a
// kilobyte).
const maxLive = 16384

// liveRuns holds the open run spans by instance id: an instance has at
// most one run at a time.
type liveRuns struct {
	log    *slog.Logger
	mu     sync.Mutex
	runs   map[string]liveRun
	warned bool
}

// liveRun is a run's open span.
type liveRun struct {
	runID string
	span  trace.Span
}

func newLiveRuns(log *slog.Logger) *liveRuns {
	return &liveRuns{log: log, runs: map[string]liveRun{}}
}

// get returns the open span of r, nil if none.
func (l *liveRuns) get(r *Run) trace.Span {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.runs[r.InstanceID]; ok && e.runID == r.RunID {
		return e.span
	}
	return nil
}

// take removes and returns the open span of r, nil if none.
func (l *liveRuns) take(r *Run) trace.Span {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.runs[r.InstanceID]
	if !ok || e.runID != r.RunID {
		return nil
	}
	delete(l.runs, r.InstanceID)
	return e.span
}

// Live reports whether the worker keeps live run spans (tracing, with a
// provider that makes its own span ids): then RunBegan is to be called
// when a run begins.
func (t *T) Live() bool { return t != nil && t.open != nil }

// RunBegan starts the span of r, which begins in this worker, at start,
// the run's real start, unless it is open already (a redone step). It
// does nothing unless Live.
func (t *T) RunBegan(r Run, start time.Time) {
	if !t.Live() {
		return
	}
	l := t.open
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.runs[r.InstanceID]
	if ok && e.runID == r.RunID {
		return
	}
	if !ok && len(l.runs) >= maxLive {
		if !l.warned && l.log != nil {
			l.warned = true
			l.log.Warn("telemetry: more runs open in this worker than it keeps spans of; the spans of the runs beyond do not nest; "+
				"build the TracerProvider with sdktrace.WithIDGenerator(telemetry.IDGenerator{}) to nest them always", "max", maxLive)
		}
		return
	}
	ctx, opts := t.runSpanStart(context.Background(), &r, start)
	_, span := t.tracer.Start(ctx, "orchestration "+r.Name, opts...)
	l.runs[r.InstanceID] = liveRun{runID: r.RunID, span: span} // an older run's is dropped
}

// RunParent returns the span context r's attempts and sub-orchestrations
// are children of: its open span's (RunBegan), else RunSpanContext's.
// Only when tracing.
func (t *T) RunParent(r Run) trace.SpanContext {
	if t.open != nil {
		if span := t.open.get(&r); span != nil {
			return span.SpanContext()
		}
	}
	return r.SpanContext()
}

// endLive ends r's open span, if this worker holds it, and reports
// whether it did.
func (t *T) endLive(r *Run, end time.Time, outcome Outcome, f *core.Failure) bool {
	if t.open == nil {
		return false
	}
	span := t.open.take(r)
	if span == nil {
		return false
	}
	span.SetAttributes(AttrOutcome.String(string(outcome)))
	failed(span, f)
	span.End(trace.WithTimestamp(end))
	return true
}

// Close drops the open run spans, unended (see above): the worker stops.
func (t *T) Close() {
	if !t.Live() {
		return
	}
	t.open.mu.Lock()
	defer t.open.mu.Unlock()
	clear(t.open.runs)
}

// runSpanStart returns the context and options that start r's span at
// start: a child of r's parent (linked to it, for a sub-orchestration),
// else a new root.
func (t *T) runSpanStart(ctx context.Context, r *Run, start time.Time) (context.Context, []trace.SpanStartOption) {
	parent := ParseParent(r.Parent)
	opts := []trace.SpanStartOption{trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindInternal)}
	if parent.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, parent)
	} else {
		opts = append(opts, trace.WithNewRoot())
	}
	attrs := []attribute.KeyValue{t.engine, AttrInstanceID.String(r.InstanceID), AttrOrchestration.String(r.Name),
		AttrRunID.String(r.RunID), AttrGeneration.Int(r.Generation)}
	if r.ParentInstanceID != "" {
		attrs = append(attrs, AttrParentInstance.String(r.ParentInstanceID))
		if parent.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: parent,
				Attributes: []attribute.KeyValue{AttrInstanceID.String(r.ParentInstanceID)}}))
		}
	}
	return ctx, append(opts, trace.WithAttributes(attrs...))
}
