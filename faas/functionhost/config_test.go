package functionhost_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/faas/functionhost"
)

func TestParseConfig(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "bootstrap")
	require.NoError(t, os.MkdirAll(filepath.Dir(bin), 0o755))
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notexec"), []byte("x"), 0o644))

	cfg, err := functionhost.ParseConfig([]byte(`
functions:
  greet:
    activity: greet
  samples:
    bootstrap: bin/bootstrap
    memory: 256
    timeout: 30s
    concurrency: 20
    onLimit: queue
    idleTimeout: 2m
    environment: {LOG_LEVEL: debug}
`), dir)
	require.NoError(t, err)
	assert.Equal(t, functionhost.FunctionConfig{Activity: "greet", MemoryMB: 128, Timeout: 3 * time.Second, Concurrency: 10,
		OnLimit: functionhost.Throttle, IdleTimeout: 5 * time.Minute}, cfg.Functions["greet"])
	assert.Equal(t, functionhost.FunctionConfig{Bootstrap: bin, MemoryMB: 256, Timeout: 30 * time.Second, Concurrency: 20,
		OnLimit: functionhost.Queue, IdleTimeout: 2 * time.Minute, Environment: map[string]string{"LOG_LEVEL": "debug"}}, cfg.Functions["samples"])

	bad := []struct {
		name, yaml, want string
	}{
		{"empty", `functions: {}`, "no functions configured"},
		{"unknown field", "functions:\n  a: {activity: x, memroy: 3}", "field memroy not found"},
		{"both kinds", "functions:\n  a: {activity: x, bootstrap: bin/bootstrap}", "exactly one"},
		{"neither kind", "functions:\n  a: {memory: 3}", "exactly one"},
		{"missing bootstrap", "functions:\n  a: {bootstrap: nope}", `function "a": bootstrap`},
		{"not executable", "functions:\n  a: {bootstrap: notexec}", "not an executable file"},
		{"bad onLimit", "functions:\n  a: {activity: x, onLimit: drop}", `onLimit "drop"`},
		{"bad name", "functions:\n  a.b: {activity: x}", `function "a.b": name must be`},
		{"negative", "functions:\n  a: {activity: x, concurrency: -1}", "must not be negative"},
		{"bad duration", "functions:\n  a: {activity: x, timeout: soon}", "parsing YAML"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := functionhost.ParseConfig([]byte(tt.yaml), dir)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestLoadConfigNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "functions.yaml")
	require.NoError(t, os.WriteFile(path, []byte("functions:\n  a: {onLimit: x}\n"), 0o644))
	_, err := functionhost.LoadConfig(path)
	assert.ErrorContains(t, err, path)
}

func TestNewChecksInProcessActivities(t *testing.T) {
	_, err := functionhost.New(&functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"a": {Activity: "missing"}}}, functionhost.Options{})
	assert.ErrorContains(t, err, `activity "missing" is not among the host's activities`)
}
