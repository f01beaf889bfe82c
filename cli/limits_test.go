package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestWorkerKeyLimitFlags: a bad --key-limit is bad usage (exit code 2),
// named, and the worker creates nothing.
func TestWorkerKeyLimitFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	tests := []struct{ flag, want string }{
		{"api=0", `"api=0": an in-flight limit of 0`},
		{"api=-1/s", `rate -1/s is negative`},
		{"api", `want KEY=N`},
		{"a*b=1", `only at the end`},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			code, _, errOut := cliWith(t, userRegs, "--db", db, "worker", "--key-limit", tt.flag)
			assert.Equal(t, ExitUsage, code, errOut)
			assert.Contains(t, errOut, "--key-limit: worker: invalid key limit")
			assert.Contains(t, errOut, tt.want)
		})
	}
	_, err := os.Stat(db)
	assert.True(t, os.IsNotExist(err), "a worker that refuses creates no database")
}

// TestStartDedupAndDebounce: --dedup prints the first instance's id
// within the window; --debounce too; bad values are bad usage.
func TestStartDedupAndDebounce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	start := func(args ...string) (int, string, string) {
		return cliWith(t, userRegs, append([]string{"--db", db, "start", "greeting", `"ada"`}, args...)...)
	}
	code, first, errOut := start("--dedup", "k", "--dedup-window", "1h")
	assert.Equal(t, ExitOK, code, errOut)
	code, second, errOut := start("--dedup", "k", "--dedup-window", "1h")
	assert.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, first, second, "the same instance within the window")
	code, d1, errOut := start("--debounce", "b", "--debounce-window", "1h")
	assert.Equal(t, ExitOK, code, errOut)
	code, d2, errOut := start("--debounce", "b", "--debounce-window", "1h")
	assert.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, d1, d2)
	assert.NotEqual(t, first, d1)

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--dedup", "k"}, `WithDedup("k", 0s): the window must be positive`},
		{[]string{"--dedup-window", "1h"}, "--dedup-window without --dedup KEY"},
		{[]string{"--debounce", "b", "--debounce-window", "-1s"}, "the window must be positive"},
		{[]string{"--dedup", "k", "--dedup-window", "1h", "--debounce", "b", "--debounce-window", "1h"}, "choose one"},
	} {
		code, _, errOut := start(tt.args...)
		assert.Equal(t, ExitUsage, code, errOut)
		assert.Contains(t, errOut, tt.want)
	}
}
