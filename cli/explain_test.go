package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

var napsLong = orchestration.New("test.naps-long", func(ctx orchestration.Context, _ struct{}) (struct{}, error) {
	return struct{}{}, orchestration.Sleep(ctx, 1000*time.Hour)
})

// TestStatusExplains: status says what a live instance waits on (from
// another engine than the worker's, as from another process), and that
// no worker runs once it stops; --json has the explanation.
func TestStatusExplains(t *testing.T) {
	regs := Registrations{Orchestrators: []orchestration.Definition{napsLong}}
	db := filepath.Join(t.TempDir(), "explain.db")
	stop := startWorkerStoppable(t, regs, db)
	code, _, errOut := cliWith(t, regs, "--db", db, "start", "test.naps-long", "{}", "--id", "nap")
	require.Equal(t, ExitOK, code, errOut)
	var out string
	require.Eventually(t, func() bool {
		code, out, errOut = cliWith(t, regs, "--db", db, "status", "nap")
		require.Equal(t, ExitOK, code, errOut)
		return strings.Contains(out, "a timer due at ")
	}, 10*time.Second, 10*time.Millisecond, "status: %s", out)
	assert.Contains(t, out, "Waiting on:\n  - a timer due at ")
	assert.NotContains(t, out, "no worker running")

	stop()
	code, out, errOut = cliWith(t, regs, "--db", db, "status", "nap")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "  - no worker running for database ")

	code, out, errOut = cliWith(t, regs, "--db", db, "status", "nap", "--json")
	require.Equal(t, ExitOK, code, errOut)
	var got struct {
		Explanation struct {
			Waits []struct{ Kind, Summary string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	var kinds []string
	for _, w := range got.Explanation.Waits {
		kinds = append(kinds, w.Kind)
	}
	assert.Equal(t, []string{"worker", "timer"}, kinds, out)
}

// startWorkerStoppable is startWorker whose worker stop returns stops,
// once the worker has exited (and released its lock).
func startWorkerStoppable(t *testing.T, regs Registrations, db string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var errOut syncbuf.Buffer
	workerDone := make(chan int, 1)
	go func() { workerDone <- Run(ctx, regs, []string{"--db", db, "worker"}, &bytes.Buffer{}, &errOut) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			assert.Equal(t, ExitOK, <-workerDone, "the worker stops cleanly on interrupt: %s", errOut.String())
		})
	}
	t.Cleanup(stop)
	require.Eventually(t, func() bool { return strings.Contains(errOut.String(), "worker running") }, 10*time.Second, 10*time.Millisecond,
		"worker output: %s", errOut.String())
	return stop
}
