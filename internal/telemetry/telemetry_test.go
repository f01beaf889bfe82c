package telemetry

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func TestRunSpanContext(t *testing.T) {
	caller := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{7}, SpanID: trace.SpanID{8}, TraceFlags: trace.FlagsSampled})
	tests := []struct {
		name         string
		a, b         trace.SpanContext
		sameTrace    bool
		sameSpan     bool
		wantTraceOfA trace.TraceID
	}{
		{"the same run, anywhere", RunSpanContext("i", "r", trace.SpanContext{}), RunSpanContext("i", "r", trace.SpanContext{}), true, true, trace.TraceID{}},
		{"another run", RunSpanContext("i", "r", trace.SpanContext{}), RunSpanContext("i", "r2", trace.SpanContext{}), false, false, trace.TraceID{}},
		{"ids do not run together", RunSpanContext("ab", "c", trace.SpanContext{}), RunSpanContext("a", "bc", trace.SpanContext{}), false, false, trace.TraceID{}},
		{"a parent's trace", RunSpanContext("i", "r", caller), RunSpanContext("i", "r", trace.SpanContext{}), false, true, caller.TraceID()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.True(t, tt.a.IsValid())
			assert.Equal(t, tt.sameTrace, tt.a.TraceID() == tt.b.TraceID())
			assert.Equal(t, tt.sameSpan, tt.a.SpanID() == tt.b.SpanID())
			if tt.wantTraceOfA.IsValid() {
				assert.Equal(t, tt.wantTraceOfA, tt.a.TraceID())
			}
		})
	}
}

func TestParentRoundTrips(t *testing.T) {
	sc := RunSpanContext("i", "r", trace.SpanContext{})
	got := ParseParent(FormatParent(sc))
	assert.Equal(t, sc.TraceID(), got.TraceID())
	assert.Equal(t, sc.SpanID(), got.SpanID())
	assert.Equal(t, sc.TraceFlags(), got.TraceFlags())
	assert.Empty(t, FormatParent(trace.SpanContext{}))
	assert.False(t, ParseParent("").IsValid())
	assert.False(t, ParseParent("not a traceparent").IsValid())
}

// The run's span gets its derived ids from an SDK provider built with
// IDGenerator; without, the worker keeps run spans open (Live) and says
// so at Debug, not above.
func TestIDGenerator(t *testing.T) {
	sc := RunSpanContext("i", "r", trace.SpanContext{})
	for _, tt := range []struct {
		name   string
		opts   []sdktrace.TracerProviderOption
		honors bool
	}{{"with IDGenerator", []sdktrace.TracerProviderOption{sdktrace.WithIDGenerator(IDGenerator{})}, true}, {"without", nil, false}} {
		t.Run(tt.name, func(t *testing.T) {
			tp := sdktrace.NewTracerProvider(tt.opts...)
			t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			_, root := tp.Tracer("t").Start(withIDs(context.Background(), sc), "root")
			assert.Equal(t, tt.honors, root.SpanContext().SpanID() == sc.SpanID() && root.SpanContext().TraceID() == sc.TraceID())
			_, other := tp.Tracer("t").Start(context.Background(), "other")
			assert.NotEqual(t, sc.SpanID(), other.SpanContext().SpanID(), "other spans get random ids")
			var log, debug bytes.Buffer
			tel, err := New("test", tp, nil, slog.New(slog.NewTextHandler(&log, nil)))
			require.NoError(t, err)
			assert.Equal(t, !tt.honors, tel.Live())
			assert.Empty(t, log.String(), "nothing at Info and above")
			_, err = New("test", tp, nil, slog.New(slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug})))
			require.NoError(t, err)
			assert.Equal(t, !tt.honors, bytes.Contains(debug.Bytes(), []byte("IDGenerator")), debug.String())
		})
	}
}

var t0 = time.Unix(0, 0)

// Off, every hook is a no-op on a nil *T.
func TestNilIsOff(t *testing.T) {
	var tel *T
	tel.RunStarted(context.Background(), "x")
	tel.RunEnded(context.Background(), Run{}, t0, t0, Completed, nil)
	tel.CommitDone(context.Background(), t0)
	assert.False(t, tel.Live())
	tel.RunBegan(Run{}, t0)
	tel.Close()
	unobserve, err := tel.ObservePending(func() int64 { return 1 })
	require.NoError(t, err)
	unobserve()
}
