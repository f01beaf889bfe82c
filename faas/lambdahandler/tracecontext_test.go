package lambdahandler_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
	"github.com/cloudbutton/cloudbutton/faas/lambdahandler"
	"github.com/cloudbutton/cloudbutton/samples/lambdafunc/activities"
)

// The invoker's client context round-trips through aws-lambda-go's
// decoding into the activity's ctx.
func TestTraceContextFromClientContext(t *testing.T) {
	h, err := lambdahandler.New(activities.All(), lambdahandler.Options{})
	require.NoError(t, err)
	payload, err := lambdawire.EncodeEnvelope(faas.Request{Activity: "runtime-info", Input: []byte(`{}`), InstanceID: "i", TaskID: 1, Attempt: 1})
	require.NoError(t, err)
	sender := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0xa, 1}, SpanID: trace.SpanID{0xb, 2}, TraceFlags: trace.FlagsSampled})
	own := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0xc, 3}, SpanID: trace.SpanID{0xd, 4}})
	// clientContext is what aws-lambda-go puts in the handler's ctx for
	// the X-Amz-Client-Context the invoker sends.
	clientContext := func(t *testing.T) lambdacontext.ClientContext {
		raw, err := base64.StdEncoding.DecodeString(lambdawire.ClientContext(trace.ContextWithSpanContext(context.Background(), sender)))
		require.NoError(t, err)
		var cc lambdacontext.ClientContext
		require.NoError(t, json.Unmarshal(raw, &cc))
		return cc
	}
	tests := []struct {
		name string
		ctx  func(t *testing.T) context.Context
		want trace.SpanContext
	}{
		{"client context", func(t *testing.T) context.Context {
			return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{ClientContext: clientContext(t)})
		}, sender},
		{"no client context", func(*testing.T) context.Context {
			return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{})
		}, trace.SpanContext{}},
		{"not in Lambda", func(*testing.T) context.Context { return context.Background() }, trace.SpanContext{}},
		{"a span already in ctx is kept", func(t *testing.T) context.Context {
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{ClientContext: clientContext(t)})
			return trace.ContextWithSpanContext(ctx, own)
		}, own},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := h.Invoke(tt.ctx(t), payload)
			require.NoError(t, err)
			var got activities.Runtime
			require.NoError(t, json.Unmarshal(out, &got))
			if !tt.want.IsValid() {
				assert.Empty(t, got.TraceID)
				return
			}
			assert.Equal(t, tt.want.TraceID().String(), got.TraceID)
			assert.Equal(t, tt.want.SpanID().String(), got.SpanID)
		})
	}
	assert.Empty(t, lambdawire.ClientContext(context.Background()), "no span: no client context")
}
