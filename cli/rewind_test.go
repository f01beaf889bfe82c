package cli

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// rewindFixed flips the bug of rewindStep off.
var rewindFixed atomic.Bool

var rewindCalls atomic.Int64

var rewindStep = activity.New("cli-rewind-step", func(ctx context.Context, x int) (int, error) {
	rewindCalls.Add(1)
	if x == 2 && !rewindFixed.Load() {
		return 0, activity.NewNonRetryableError("Bug", "step 2 has a bug")
	}
	return x, nil
})

var rewindChain = orchestration.New("cli-rewind-chain", func(ctx orchestration.Context, n int) (int, error) {
	sum := 0
	for i := 1; i <= n; i++ {
		v, err := orchestration.Call(ctx, rewindStep, i).Await(ctx)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
})

// TestCLIRewind: rewind restarts a failed instance from its failed step;
// a completed one is refused (exit 1), an unknown one exits 3.
func TestCLIRewind(t *testing.T) {
	regs := Registrations{Orchestrators: []orchestration.Definition{rewindChain}, Activities: []activity.Definition{rewindStep}}
	db := filepath.Join(t.TempDir(), "rewind.db")
	code, _, errOut := cliWith(t, regs, "--db", db, "start", "cli-rewind-chain", "3", "--id", "r1", "--any-name")
	require.Equal(t, ExitOK, code, errOut)
	startWorker(t, regs, db)
	code, _, errOut = cliWith(t, regs, "--db", db, "wait", "r1", "--timeout", "1m", "--no-progress")
	require.Equal(t, ExitFailed, code, errOut)
	assert.Contains(t, errOut, "step 2 has a bug")
	require.EqualValues(t, 2, rewindCalls.Load())

	rewindFixed.Store(true)
	code, out, errOut := cliWith(t, regs, "--db", db, "rewind", "r1", "--reason", "fixed", "--wait", "--timeout", "1m", "--no-progress")
	require.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, "6\n", out)
	assert.EqualValues(t, 4, rewindCalls.Load(), "step 1 is not run again; steps 2 and 3 run")

	code, out, _ = cliWith(t, regs, "--db", db, "history", "r1")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "OrchestrationRewound")

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"completed", []string{"rewind", "r1"}, ExitError, "cannot be rewound"},
		{"unknown", []string{"rewind", "nope"}, ExitNotFound, `instance not found: "nope"`},
		{"no id", []string{"rewind"}, ExitUsage, "accepts 1 arg"},
		{"negative timeout", []string{"rewind", "r1", "--wait", "--timeout", "-1s"}, ExitUsage, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cliWith(t, regs, append([]string{"--db", db}, tt.args...)...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, errOut, tt.want)
		})
	}
}
