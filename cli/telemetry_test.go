package cli

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOtelConfig(t *testing.T) {
	tests := []struct {
		name            string
		env             map[string]string
		traces, metrics otelSignal
		err             string
	}{
		{name: "nothing set: off", env: nil,
			traces: otelSignal{protocol: "http/protobuf"}, metrics: otelSignal{protocol: "http/protobuf"}},
		{name: "an endpoint turns both on", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
			traces: otelSignal{true, "http/protobuf"}, metrics: otelSignal{true, "http/protobuf"}},
		{name: "a traces endpoint, traces only", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"},
			traces: otelSignal{true, "http/protobuf"}, metrics: otelSignal{protocol: "http/protobuf"}},
		{name: "exporter otlp over grpc", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			traces: otelSignal{true, "grpc"}, metrics: otelSignal{protocol: "grpc"}},
		{name: "none wins over an endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "x", "OTEL_METRICS_EXPORTER": "none"},
			traces: otelSignal{true, "http/protobuf"}, metrics: otelSignal{protocol: "http/protobuf"}},
		{name: "per-signal protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "x", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
			"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf"},
			traces: otelSignal{true, "grpc"}, metrics: otelSignal{true, "http/protobuf"}},
		{name: "SDK disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "x", "OTEL_SDK_DISABLED": "true"}},
		{name: "unknown exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, err: `OTEL_TRACES_EXPORTER="zipkin": want otlp or none`},
		{name: "unknown protocol", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
			err: `OTEL_EXPORTER_OTLP_PROTOCOL="http/json": want http/protobuf or grpc`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			traces, metrics, err := otelConfig(func(k string) string { return tt.env[k] })
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.traces, traces)
			assert.Equal(t, tt.metrics, metrics)
		})
	}
}

// collector is a fake OTLP/HTTP collector: it keeps the request bodies
// by path.
type collector struct {
	mu     sync.Mutex
	bodies map[string][]byte
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.bodies[r.URL.Path] = append(c.bodies[r.URL.Path], b...)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (c *collector) got(path string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.bodies[path])
}

// The worker exports its spans and metrics over OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set, and flushes them when it stops.
func TestWorkerExportsOTLP(t *testing.T) {
	c := &collector{bodies: map[string][]byte{}}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	db := filepath.Join(t.TempDir(), "app.db")
	t.Run("run", func(t *testing.T) {
		startWorker(t, userRegs, db) // stopped at the end of the subtest
		code, _, errOut := cliWith(t, userRegs, "--db", db, "start", "greeting", `"ada"`, "--id", "g1", "--wait", "--timeout", "1m")
		require.Equal(t, ExitOK, code, errOut)
	})
	// Protobuf keeps strings as they are.
	assert.Contains(t, string(c.got("/v1/traces")), "orchestration greeting")
	assert.Contains(t, string(c.got("/v1/traces")), "activity shout")
	assert.Contains(t, string(c.got("/v1/metrics")), "cloudbutton.orchestration.starts")
}
