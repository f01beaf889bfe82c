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
