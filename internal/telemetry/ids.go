package telemetry

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// With IDGenerator, a run's span has ids that any process can compute
// from the run alone, so that the activity attempts of a run, wherever
// and whenever they run (another worker, after a restart), are children
// of the one run span, which is emitted when the run ends (without, see
// live.go):
//
//   - its span id is derived from the instance id and the run id;
//   - its trace id is the trace id of its parent (the caller's span that
//     started the run, or the parent run of a sub-orchestration), else
//     derived from the instance id and the run id too.
//
// The OpenTelemetry API has no way to choose a span's ids: the SDK's
// IDGenerator makes them. IDGenerator (exported as
// telemetry.IDGenerator) returns the ids a context asks for (withIDs),
// and random ones otherwise.

// RunSpanContext returns the span context of run's span: see above.
// parent is the run's parent span context (invalid: none).
func RunSpanContext(instanceID, runID string, parent trace.SpanContext) trace.SpanContext {
	h := sha256.Sum256([]byte("cloudbutton.run\x00" + instanceID + "\x00" + runID))
	var tid trace.TraceID
	var sid trace.SpanID
	copy(tid[:], h[:16])
	copy(sid[:], h[16:24])
	if !sid.IsValid() {
		sid[7] = 1
	}
	if !tid.IsValid() {
		tid[15] = 1
	}
	cfg := trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: true}
	if parent.IsValid() {
		cfg.TraceID, cfg.TraceFlags, cfg.TraceState = parent.TraceID(), parent.TraceFlags(), parent.TraceState()
	}
	return trace.NewSpanContext(cfg)
}

// FormatParent returns sc as a W3C traceparent ("" if sc is invalid).
func FormatParent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), sc), c)
	return c["traceparent"]
}

// ParseParent reads a W3C traceparent (an invalid span context if s is
// empty or malformed).
func ParseParent(s string) trace.SpanContext {
	if s == "" {
		return trace.SpanContext{}
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": s})
	return trace.SpanContextFromContext(ctx)
}

// ParentFromContext returns the traceparent of the span in ctx, "" if
// none: a client records it with a start, so that the run joins the
// caller's trace.
func ParentFromContext(ctx context.Context) string {
	return FormatParent(trace.SpanContextFromContext(ctx))
}

// wantIDs is what withIDs asks the IDGenerator for.
type wantIDs struct {
	trace trace.TraceID
	span  trace.SpanID
}

type wantIDsKey struct{}

// withIDs asks the IDGenerator for the ids of sc for the next span started
// with ctx.
func withIDs(ctx context.Context, sc trace.SpanContext) context.Context {
	return context.WithValue(ctx, wantIDsKey{}, wantIDs{trace: sc.TraceID(), span: sc.SpanID()})
}

// IDGenerator implements the SDK's IDGenerator
// (go.opentelemetry.io/otel/sdk/trace.IDGenerator): the ids a context
// asks for, random ids otherwise. It is safe for concurrent use.
type IDGenerator struct{}

// NewIDs returns the trace and span ids of a new root span.
func (IDGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if w, ok := ctx.Value(wantIDsKey{}).(wantIDs); ok && w.trace.IsValid() && w.span.IsValid() {
		return w.trace, w.span
	}
	var tid trace.TraceID
	for !tid.IsValid() {
		binary.BigEndian.PutUint64(tid[:8], rand.Uint64())
		binary.BigEndian.PutUint64(tid[8:], rand.Uint64())
	}
	return tid, randomSpanID()
}

// NewSpanID returns the span id of a new span in trace tid.
func (IDGenerator) NewSpanID(ctx context.Context, tid trace.TraceID) trace.SpanID {
	if w, ok := ctx.Value(wantIDsKey{}).(wantIDs); ok && w.trace == tid && w.span.IsValid() {
		return w.span
	}
	return randomSpanID()
}

func randomSpanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.BigEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}
