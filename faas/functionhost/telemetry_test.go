package functionhost_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
	"github.com/cloudbutton/cloudbutton/samples/lambdafunc/activities"
)

// The span of an invocation's ctx reaches the function's handler (a
// bootstrap built from the tree, and an in-process function): the
// invoker sends it in the client context, the host hands it to the
// runtime, and lambdahandler restores it.
func TestTraceContextReachesTheFunction(t *testing.T) {
	cfg := &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"local":   {InProcess: true, Timeout: 10 * time.Second},
		"samples": {Bootstrap: bootstrap(t), Timeout: 10 * time.Second},
	}}
	_, url := startHost(t, cfg)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewInMemoryExporter()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	for _, tt := range []struct {
		function string
		traced   bool
	}{{"samples", true}, {"samples", false}, {"local", true}, {"local", false}} {
		name := tt.function + "/untraced"
		if tt.traced {
			name = tt.function + "/traced"
		}
		t.Run(name, func(t *testing.T) {
			inv := newInvoker(t, url, awslambda.Options{DefaultFunction: tt.function})
			ctx := context.Background()
			if tt.traced {
				c, s := tp.Tracer("test").Start(ctx, "attempt")
				defer s.End()
				ctx = c
			}
			out, err := inv.Invoke(ctx, req("runtime-info", `{}`))
			require.NoError(t, err)
			var got activities.Runtime
			require.NoError(t, json.Unmarshal(out, &got), string(out))
			if !tt.traced {
				assert.Empty(t, got.TraceID)
				return
			}
			sc := trace.SpanContextFromContext(ctx)
			assert.Equal(t, sc.TraceID().String(), got.TraceID)
			assert.Equal(t, sc.SpanID().String(), got.SpanID, "the handler's parent is the invoker's span")
		})
	}
}
