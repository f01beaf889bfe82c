package cli

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
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/internal/bench"
	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// benchRegs are the stock binary's registrations.
var benchRegs = Registrations{Orchestrators: bench.Orchestrators(), Activities: bench.Activities()}

// cliWith runs the CLI in-process with regs and returns its exit code and
// output.
func cliWith(t *testing.T, regs Registrations, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), regs, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// cli runs the stock binary's CLI.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return cliWith(t, benchRegs, args...)
}

// startWorker runs `worker` with regs on db until the test ends, and
// returns once the worker says it runs (its registrations are then
// stored, and start checks names against them).
func startWorker(t testing.TB, regs Registrations, db string) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	var errOut syncbuf.Buffer
	workerDone := make(chan int)
	go func() { workerDone <- Run(ctx, regs, []string{"--db", db, "worker"}, &bytes.Buffer{}, &errOut) }()
	t.Cleanup(func() {
		stop()
		assert.Equal(t, ExitOK, <-workerDone, "the worker stops cleanly on interrupt: %s", errOut.String())
	})
	require.Eventually(t, func() bool { return strings.Contains(errOut.String(), "worker running") }, 10*time.Second, 10*time.Millisecond,
		"worker output: %s", errOut.String())
}

func TestCLIEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cli.db")
	startWorker(t, benchRegs, db)

	code, out, errOut := cli(t, "--db", db, "start", "bench.fanout", "50", "--id", "f1", "--wait", "--timeout", "1m")
	require.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, "f1\n1225\n", out)

	code, out, _ = cli(t, "--db", db, "status", "f1", "--json")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, `"runtimeStatus": "Completed"`)
	assert.Contains(t, out, `"activitiesDone": 50`)

	code, out, _ = cli(t, "--db", db, "history", "f1")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "ActivityScheduled")
	assert.Contains(t, out, "OrchestrationCompleted")

	code, out, _ = cli(t, "--db", db, "history", "f1", "--json")
	require.Equal(t, ExitOK, code)
	file := filepath.Join(t.TempDir(), "f1.json")
	require.NoError(t, os.WriteFile(file, []byte(out), 0o644))
	code, out, errOut = cli(t, "replay", file)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "replays against the current code")

	code, out, _ = cli(t, "--db", db, "list", "--status", "completed")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "f1")

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown instance", []string{"--db", db, "status", "nope"}, ExitNotFound, `instance not found: "nope"`},
		{"bad JSON input", []string{"--db", db, "start", "bench.fanout", "{oops"}, ExitUsage, "not valid JSON"},
		{"unknown flag", []string{"--db", db, "status", "f1", "--frobnicate"}, ExitUsage, "unknown flag"},
		{"missing argument", []string{"--db", db, "status"}, ExitUsage, "accepts 1 arg"},
		{"unknown orchestrator", []string{"--db", db, "start", "no-such-orchestrator"}, ExitError, "no orchestrator registered under that name"},
		{"unknown orchestrator, started anyway", []string{"--db", db, "start", "no-such-orchestrator", "--any-name", "--id", "waits"}, ExitOK, ""},
		{"event for a finished instance", []string{"--db", db, "raise", "f1", "go"}, ExitError, "is Completed"},
		{"missing database", []string{"--db", filepath.Join(t.TempDir(), "typo.db"), "list"}, ExitError, "typo.db"},
		{"failed orchestration", []string{"--db", db, "start", "bench.fanout", `"not a number"`, "--wait", "--timeout", "1m"}, ExitFailed, "DecodeError"},
		{"query an unknown instance", []string{"--db", db, "query", "nope", "value"}, ExitNotFound, `instance not found: "nope"`},
		{"update with bad JSON", []string{"--db", db, "update", "f1", "add", "{oops"}, ExitUsage, "not valid JSON"},
		{"update a finished instance", []string{"--db", db, "update", "f1", "add", "1"}, ExitError, `update "add" of instance "f1": the instance is Completed`},
		{"query outside the worker's process", []string{"--db", db, "query", "waits", "value"}, ExitError, "no worker runs in this one"},
		{"update outside the worker's process", []string{"--db", db, "update", "waits", "add", "1"}, ExitError, "no worker runs in this one"},
		{"purge a running instance", []string{"--db", db, "purge", "f1"}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cli(t, tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, errOut, tt.want)
		})
	}

	code, out, errOut = cli(t, "--db", db, "status", "waits")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, `Waiting       orchestrator "no-such-orchestrator" is not registered on the worker`, "status says why it waits")

	code, _, errOut = cli(t, "--db", db, "start", "bench.sequence", "100000", "--id", "long")
	require.Equal(t, ExitOK, code, errOut)
	code, _, errOut = cli(t, "--db", db, "wait", "long", "--timeout", "50ms", "--no-progress")
	assert.Equal(t, ExitTimeout, code, errOut)
	code, _, errOut = cli(t, "--db", db, "terminate", "long", "--reason", "enough")
	require.Equal(t, ExitOK, code, errOut)
	code, _, errOut = cli(t, "--db", db, "wait", "long", "--timeout", "1m", "--no-progress")
	assert.Equal(t, ExitFailed, code)
	assert.True(t, strings.Contains(errOut, "Terminated"), errOut)
}
