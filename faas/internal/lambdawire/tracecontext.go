package lambdawire

import (
	"context"
	"encoding/base64"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Trace context (W3C traceparent and tracestate) travels in the custom
// field of the invocation's client context (X-Amz-Client-Context, base64
// of {"custom":{"traceparent":"00-...","tracestate":"..."}}), which Lambda
// and the local function host hand to the runtime
// (Lambda-Runtime-Client-Context), and aws-lambda-go to the handler
// (lambdacontext.ClientContext.Custom).

// ClientContext returns the X-Amz-Client-Context that carries the span of
// ctx, "" if ctx has none.
func ClientContext(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	b, err := json.Marshal(struct {
		Custom map[string]string `json:"custom"`
	}{c})
	if err != nil {
		return "" // a map of strings always encodes
	}
	return base64.StdEncoding.EncodeToString(b)
}

// WithTraceContext returns ctx carrying, as its remote parent span, the
// trace context of the invocation's client context (lambdacontext in ctx),
// unless ctx has a span already.
func WithTraceContext(ctx context.Context) context.Context {
	if trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok || lc.ClientContext.Custom["traceparent"] == "" {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier(lc.ClientContext.Custom))
}

// DecodeClientContext parses a decoded client context (JSON), for a host
// that runs handlers in-process and gives them the lambdacontext a Lambda
// runtime would.
func DecodeClientContext(raw string) (lambdacontext.ClientContext, error) {
	var cc lambdacontext.ClientContext
	if raw == "" {
		return cc, nil
	}
	err := json.Unmarshal([]byte(raw), &cc)
	return cc, err
}
