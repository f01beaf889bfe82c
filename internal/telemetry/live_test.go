package telemetry

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cloudbutton/cloudbutton/internal/core"
)

// plain returns a T over a provider without IDGenerator, exporting into
// the returned exporter.
func plain(t *testing.T) (*T, *tracetest.InMemoryExporter) {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tel, err := New("test", tp, nil, nil)
	require.NoError(t, err)
	require.True(t, tel.Live())
	return tel, spans
}

// A run begun in this worker has one span, started at the run's start
// and ended with its outcome at its end; RunParent is its context while
// open, the derived one otherwise.
func TestLiveRunSpan(t *testing.T) {
	tel, spans := plain(t)
	r := Run{InstanceID: "i", Name: "o", RunID: "r"}
	start, end := time.Unix(100, 0), time.Unix(200, 0)
	assert.Equal(t, r.SpanContext(), tel.RunParent(r), "not begun: the derived context")
	tel.RunBegan(r, start)
	open := tel.RunParent(r)
	assert.NotEqual(t, r.SpanContext().SpanID(), open.SpanID())
	tel.RunBegan(r, end) // a redone step: the same span
	assert.Equal(t, open, tel.RunParent(r))
	assert.Empty(t, spans.GetSpans(), "open until the run ends")
	tel.RunEnded(context.Background(), r, start, end, Failed, &core.Failure{Type: "T", Message: "m"})
	got := spans.GetSpans()
	require.Len(t, got, 1)
	assert.Equal(t, open.SpanID(), got[0].SpanContext.SpanID())
	assert.Equal(t, start, got[0].StartTime)
	assert.Equal(t, end, got[0].EndTime)
	assert.Equal(t, codes.Error, got[0].Status.Code)
	assert.Contains(t, got[0].Attributes, AttrOutcome.String(string(Failed)))
	assert.Empty(t, tel.open.runs, "an ended run's span is forgotten")
	assert.Equal(t, r.SpanContext(), tel.RunParent(r))
}

// A run this worker did not begin is emitted whole at its end, as with
// IDGenerator.
func TestLiveFallback(t *testing.T) {
	tel, spans := plain(t)
	r := Run{InstanceID: "i", Name: "o", RunID: "r"}
	tel.RunEnded(context.Background(), r, t0, t0.Add(time.Second), Completed, nil)
	require.Len(t, spans.GetSpans(), 1)
	assert.Contains(t, spans.GetSpans()[0].Attributes, AttrOutcome.String(string(Completed)))
}

// The open spans are bounded: a new run of an instance replaces its old
// one's, at most maxLive are held, and Close drops them all, unexported.
func TestLiveBounded(t *testing.T) {
	tel, spans := plain(t)
	old, next := Run{InstanceID: "i", RunID: "r1"}, Run{InstanceID: "i", RunID: "r2"}
	tel.RunBegan(old, t0)
	tel.RunBegan(next, t0)
	assert.Len(t, tel.open.runs, 1)
	assert.Equal(t, old.SpanContext(), tel.RunParent(old), "the replaced run's span is dropped")
	for i := range maxLive + 10 {
		tel.RunBegan(Run{InstanceID: strconv.Itoa(i), RunID: "r"}, t0)
	}
	assert.Len(t, tel.open.runs, maxLive)
	tel.Close()
	assert.Empty(t, tel.open.runs)
	assert.Empty(t, spans.GetSpans(), "dropped, not ended")
}
