package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScheduleCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sched.db")
	startWorker(t, benchRegs, db)
	run := func(args ...string) (int, string, string) { return cli(t, append([]string{"--db", db}, args...)...) }

	code, out, errOut := run("schedule", "create", "tick", "--every", "1s", "--limit", "2", "bench.sequence", "1")
	require.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, "tick\n", out)
	require.Eventually(t, func() bool {
		_, out, _ := run("schedule", "describe", "tick")
		return strings.Contains(out, "Fired:            2")
	}, time.Minute, 20*time.Millisecond, "two slots fire")
	code, out, _ = run("schedule", "list")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "every 1s")
	assert.Contains(t, out, "done")

	code, _, errOut = run("schedule", "create", "nightly", "--cron", "30 2 * * *", "--tz", "Europe/Paris", "--paused", "--note", "not yet", "bench.sequence", "1")
	require.Equal(t, ExitOK, code, errOut)
	code, out, _ = run("schedule", "describe", "nightly")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, `cron "30 2 * * *" in Europe/Paris`)
	assert.Contains(t, out, "not yet")
	code, out, errOut = run("schedule", "trigger", "nightly")
	require.Equal(t, ExitOK, code, errOut)
	id := strings.TrimSpace(out)
	require.True(t, strings.HasPrefix(id, "nightly-"), id)
	code, _, errOut = run("wait", id)
	require.Equal(t, ExitOK, code, errOut)
	code, out, errOut = run("schedule", "backfill", "nightly", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-03T00:00:00Z")
	require.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, "nightly-2026-01-01T01:30:00Z\nnightly-2026-01-02T01:30:00Z\n", out, "02:30 in Paris is 01:30 UTC in winter")
	require.Equal(t, ExitOK, first(run("schedule", "unpause", "nightly")))
	require.Equal(t, ExitOK, first(run("schedule", "pause", "nightly", "--note", "again")))
	require.Equal(t, ExitOK, first(run("schedule", "delete", "nightly")))

	for _, tc := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"invalid cron", []string{"schedule", "create", "x", "--cron", "61 * * * *", "bench.sequence"}, ExitUsage, `cron expression "61 * * * *"`},
		{"no spec", []string{"schedule", "create", "x", "bench.sequence"}, ExitUsage, "give --cron EXPR or --every DURATION"},
		{"both specs", []string{"schedule", "create", "x", "--cron", "@daily", "--every", "1h", "bench.sequence"}, ExitUsage, "both a cron expression"},
		{"negative interval", []string{"schedule", "create", "x", "--every", "-1s", "bench.sequence"}, ExitUsage, "interval -1s"},
		{"limit of 0", []string{"schedule", "create", "x", "--every", "1h", "--limit", "0", "bench.sequence"}, ExitUsage, "--limit 0"},
		{"unknown overlap", []string{"schedule", "create", "x", "--every", "1h", "--overlap", "maybe", "bench.sequence"}, ExitUsage, `"maybe"`},
		{"bad JSON input", []string{"schedule", "create", "x", "--every", "1h", "bench.sequence", "{oops"}, ExitUsage, "not valid JSON"},
		{"unknown orchestrator", []string{"schedule", "create", "x", "--every", "1h", "no.such"}, ExitError, `no orchestrator registered under that name: "no.such"`},
		{"unknown schedule", []string{"schedule", "describe", "nope"}, ExitNotFound, `schedule not found: "nope"`},
		{"unknown schedule pause", []string{"schedule", "pause", "nope"}, ExitNotFound, `schedule not found: "nope"`},
		{"bad backfill time", []string{"schedule", "backfill", "tick", "--from", "yesterday", "--to", "2026-01-01T00:00:00Z"}, ExitUsage, "RFC 3339"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(tc.args...)
			assert.Equal(t, tc.code, code, errOut)
			assert.Contains(t, errOut, tc.says)
		})
	}
	_, out, _ = run("schedule", "list")
	assert.NotContains(t, out, "x ", "a refused create leaves nothing")
}

func first(code int, _, _ string) int { return code }
