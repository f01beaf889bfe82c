package functionhost_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/faas/awslambda"
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
    async: {maxRetries: 0, retryDelay: 5s, maxEventAge: 1h}
`), dir)
	require.NoError(t, err)
	two, zero := 2, 0
	assert.Equal(t, functionhost.FunctionConfig{Activity: "greet", MemoryMB: 128, Timeout: 3 * time.Second, Concurrency: 10,
		OnLimit: functionhost.Throttle, IdleTimeout: 5 * time.Minute,
		Async: functionhost.AsyncConfig{MaxRetries: &two, RetryDelay: time.Minute, MaxEventAge: 6 * time.Hour}}, cfg.Functions["greet"])
	assert.Equal(t, functionhost.FunctionConfig{Bootstrap: bin, MemoryMB: 256, Timeout: 30 * time.Second, Concurrency: 20,
		OnLimit: functionhost.Queue, IdleTimeout: 2 * time.Minute, Environment: map[string]string{"LOG_LEVEL": "debug"},
		Async: functionhost.AsyncConfig{MaxRetries: &zero, RetryDelay: 5 * time.Second, MaxEventAge: time.Hour}}, cfg.Functions["samples"])

	bad := []struct {
		name, yaml, want string
	}{
		{"empty", `functions: {}`, "no functions configured"},
		{"unknown field", "functions:\n  a: {activity: x, memroy: 3}", "field memroy not found"},
		{"async retries", "functions:\n  a: {activity: x, async: {maxRetries: 3}}", `function "a": async.maxRetries 3: want 0, 1 or 2`},
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

// TestRelativeBootstrapRuns is the README's setup: a relative --config
// with "bootstrap: ./bootstrap" (or ./sub/bootstrap). Before, exec looked
// "bootstrap" up on $PATH and every invoke failed with Runtime.InitError
// (or ran another program of that name).
func TestRelativeBootstrapRuns(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(bootstrap(t))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	for _, p := range []string{"bootstrap", "sub/bootstrap"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), src, 0o755))
	}
	// A decoy on $PATH that must never run.
	decoy := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(decoy, "bootstrap"), []byte("#!/bin/sh\necho decoy >&2\nexit 9\n"), 0o755))
	t.Setenv("PATH", decoy+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Chdir(dir)
	require.NoError(t, os.WriteFile("functions.yaml", []byte("functions:\n  top:\n    bootstrap: ./bootstrap\n  nested:\n    bootstrap: ./sub/bootstrap\n"), 0o644))

	cfg, err := functionhost.LoadConfig("functions.yaml")
	require.NoError(t, err)
	for name, want := range map[string]string{"top": "bootstrap", "nested": "sub/bootstrap"} {
		assert.Equal(t, filepath.Join(dir, want), cfg.Functions[name].Bootstrap, "made absolute")
	}
	_, url := startHost(t, cfg)
	for _, fn := range []string{"top", "nested"} {
		out, err := newInvoker(t, url, awslambda.Options{DefaultFunction: fn}).Invoke(context.Background(), req("greet", `"ada"`))
		require.NoError(t, err, fn)
		assert.Equal(t, `"hello, ada"`, string(out))
	}

	// A config built in code with a relative path is resolved against the
	// working directory, and a missing one fails at New, not at invoke.
	h, err := functionhost.New(&functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"a": {Bootstrap: "./missing"}}}, functionhost.Options{})
	assert.Nil(t, h)
	assert.ErrorContains(t, err, filepath.Join(dir, "missing"))
}
