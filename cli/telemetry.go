package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/cloudbutton/cloudbutton/telemetry"
	"github.com/cloudbutton/cloudbutton/worker"
)

// OpenTelemetry export of the CLI's worker, opt-in through the standard
// environment variables (the subset of the SDK's autoexport that OTLP
// needs, without its other exporters' dependencies):
//
//   - OTEL_SDK_DISABLED=true turns everything off;
//   - traces are exported when OTEL_TRACES_EXPORTER is "otlp", or when it
//     is unset and OTEL_EXPORTER_OTLP_ENDPOINT or
//     OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; "none" turns them off;
//   - metrics likewise, with OTEL_METRICS_EXPORTER and
//     OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
//   - OTEL_EXPORTER_OTLP_PROTOCOL (or its _TRACES_/_METRICS_ form) picks
//     "http/protobuf" (the default) or "grpc";
//   - everything else (endpoints, headers, TLS, timeouts, the sampler,
//     the batch and export intervals, OTEL_SERVICE_NAME and
//     OTEL_RESOURCE_ATTRIBUTES) is read by the exporters and the SDK
//     themselves.
//
// The providers are also installed as otel's globals (with the W3C trace
// context and baggage propagators), so activities that use otel.Tracer
// export through them.

// otelSignal is one signal's export setting.
type otelSignal struct {
	on       bool
	protocol string // "http/protobuf" or "grpc"
}

// otelConfig reads the export settings of traces and metrics from getenv.
func otelConfig(getenv func(string) string) (traces, metrics otelSignal, err error) {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return traces, metrics, nil
	}
	signal := func(name string) (otelSignal, error) {
		upper := strings.ToUpper(name)
		var s otelSignal
		switch exp := strings.TrimSpace(getenv("OTEL_" + upper + "_EXPORTER")); exp {
		case "":
			s.on = getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_"+upper+"_ENDPOINT") != ""
		case "otlp":
			s.on = true
		case "none":
		default:
			return s, fmt.Errorf("OTEL_%s_EXPORTER=%q: want otlp or none", upper, exp)
		}
		s.protocol = getenv("OTEL_EXPORTER_OTLP_" + upper + "_PROTOCOL")
		if s.protocol == "" {
			s.protocol = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
		}
		switch s.protocol {
		case "":
			s.protocol = "http/protobuf"
		case "http/protobuf", "grpc":
		default:
			if s.on {
				return s, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%q: want http/protobuf or grpc", s.protocol)
			}
		}
		return s, nil
	}
	if traces, err = signal("traces"); err != nil {
		return traces, metrics, err
	}
	metrics, err = signal("metrics")
	return traces, metrics, err
}

// withTelemetry sets opts' providers from the environment (see above),
// and returns the function that flushes and stops them.
func withTelemetry(ctx context.Context, getenv func(string) string, opts worker.Options) (worker.Options, func(context.Context) error, error) {
	traces, metrics, err := otelConfig(getenv)
	if err != nil {
		return opts, nil, withCode(ExitUsage, fmt.Errorf("telemetry: %w", err))
	}
	var stops []func(context.Context) error
	stop := func(ctx context.Context) error {
		var errs []error
		for _, s := range stops {
			errs = append(errs, s(ctx))
		}
		return errors.Join(errs...)
	}
	if traces.on {
		var exp sdktrace.SpanExporter
		if traces.protocol == "grpc" {
			exp, err = otlptracegrpc.New(ctx)
		} else {
			exp, err = otlptracehttp.New(ctx)
		}
		if err != nil {
			return opts, nil, fmt.Errorf("telemetry: OTLP trace exporter: %w", err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithIDGenerator(telemetry.IDGenerator{}))
		stops = append(stops, tp.Shutdown)
		otel.SetTracerProvider(tp)
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
		opts.TracerProvider = tp
	}
	if metrics.on {
		var exp sdkmetric.Exporter
		if metrics.protocol == "grpc" {
			exp, err = otlpmetricgrpc.New(ctx)
		} else {
			exp, err = otlpmetrichttp.New(ctx)
		}
		if err != nil {
			_ = stop(ctx)
			return opts, nil, fmt.Errorf("telemetry: OTLP metric exporter: %w", err)
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
		stops = append(stops, mp.Shutdown)
		otel.SetMeterProvider(mp)
		opts.MeterProvider = mp
	}
	return opts, stop, nil
}
