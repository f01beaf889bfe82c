package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cli runs the CLI in-process and returns its exit code and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCLIEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cli.db")
	ctx, stop := context.WithCancel(context.Background())
	workerDone := make(chan int)
	go func() {
		var out, errOut bytes.Buffer
		workerDone <- run(ctx, []string{"--db", db, "worker"}, &out, &errOut)
	}()
	t.Cleanup(func() {
		stop()
		assert.Equal(t, exitOK, <-workerDone, "the worker stops cleanly on interrupt")
	})
	require.Eventually(t, func() bool { _, err := os.Stat(db); return err == nil }, 10*time.Second, 10*time.Millisecond)

	code, out, errOut := cli(t, "--db", db, "start", "bench.fanout", "50", "--id", "f1", "--wait", "--timeout", "1m")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "f1\n1225\n", out)

	code, out, _ = cli(t, "--db", db, "status", "f1", "--json")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, `"runtimeStatus": "Completed"`)
	assert.Contains(t, out, `"activitiesDone": 50`)

	code, out, _ = cli(t, "--db", db, "history", "f1")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "ActivityScheduled")
	assert.Contains(t, out, "OrchestrationCompleted")

	code, out, _ = cli(t, "--db", db, "history", "f1", "--json")
	require.Equal(t, exitOK, code)
	file := filepath.Join(t.TempDir(), "f1.json")
	require.NoError(t, os.WriteFile(file, []byte(out), 0o644))
	code, out, errOut = cli(t, "replay", file)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "replays against the current code")

	code, out, _ = cli(t, "--db", db, "list", "--status", "completed")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "f1")

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown instance", []string{"--db", db, "status", "nope"}, exitNotFound, `instance not found: "nope"`},
		{"bad JSON input", []string{"--db", db, "start", "bench.fanout", "{oops"}, exitUsage, "not valid JSON"},
		{"unknown flag", []string{"--db", db, "status", "f1", "--frobnicate"}, exitUsage, "unknown flag"},
		{"missing argument", []string{"--db", db, "status"}, exitUsage, "accepts 1 arg"},
		{"unknown orchestrator", []string{"--db", db, "start", "no-such-orchestrator"}, exitError, "no orchestrator registered under that name"},
		{"unknown orchestrator, started anyway", []string{"--db", db, "start", "no-such-orchestrator", "--any-name", "--id", "waits"}, exitOK, ""},
		{"event for a finished instance", []string{"--db", db, "raise", "f1", "go"}, exitError, "is Completed"},
		{"missing database", []string{"--db", filepath.Join(t.TempDir(), "typo.db"), "list"}, exitError, "typo.db"},
		{"failed orchestration", []string{"--db", db, "start", "bench.fanout", `"not a number"`, "--wait", "--timeout", "1m"}, exitFailed, "DecodeError"},
		{"purge a running instance", []string{"--db", db, "purge", "f1"}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cli(t, tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, errOut, tt.want)
		})
	}

	code, out, errOut = cli(t, "--db", db, "status", "waits")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, `Waiting       orchestrator "no-such-orchestrator" is not registered on the worker`, "status says why it waits")

	code, _, errOut = cli(t, "--db", db, "start", "bench.sequence", "100000", "--id", "long")
	require.Equal(t, exitOK, code, errOut)
	code, _, errOut = cli(t, "--db", db, "wait", "long", "--timeout", "50ms", "--no-progress")
	assert.Equal(t, exitTimeout, code, errOut)
	code, _, errOut = cli(t, "--db", db, "terminate", "long", "--reason", "enough")
	require.Equal(t, exitOK, code, errOut)
	code, _, errOut = cli(t, "--db", db, "wait", "long", "--timeout", "1m", "--no-progress")
	assert.Equal(t, exitFailed, code)
	assert.True(t, strings.Contains(errOut, "Terminated"), errOut)
}
