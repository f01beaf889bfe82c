package embedded_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// crashLoopBackoff is the retry back-off of the crash-loop test.
const crashLoopBackoff = 300 * time.Millisecond

var (
	// killsItsWorker logs its attempt, then SIGKILLs its own worker process.
	killsItsWorker = activity.New("kills-its-worker", func(ctx context.Context, _ struct{}) (struct{}, error) {
		info, _ := activity.InfoFrom(ctx)
		f, err := os.OpenFile(os.Getenv("CLOUDBUTTON_CRASHLOOP_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return struct{}{}, err
		}
		fmt.Fprintf(f, "%s %d\n", info.IdempotencyKey, time.Now().UnixNano())
		_ = f.Sync()
		_ = f.Close()
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	})
	crashLoop = orchestration.New("crash-loop", func(ctx orchestration.Context, _ struct{}) (struct{}, error) {
		return orchestration.Call(ctx, killsItsWorker, struct{}{}, orchestration.WithRetry(orchestration.RetryPolicy{
			MaxAttempts: 3, InitialInterval: crashLoopBackoff, BackoffCoefficient: 2,
		})).Await(ctx)
	})
)

// TestCrashLoopChild is the worker process of TestCrashLoop.
func TestCrashLoopChild(t *testing.T) {
	db := os.Getenv("CLOUDBUTTON_CRASHLOOP_DB")
	if db == "" {
		t.Skip("run by TestCrashLoop")
	}
	eng, err := embedded.Open(context.Background(), db, embedded.Options{PollInterval: 10 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(crashLoop)
	w.RegisterActivities(killsItsWorker)
	if err := w.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	select {} // until killed
}

// TestCrashLoop runs an activity that kills its own worker process, with
// MaxAttempts 3, restarting the worker each time: the instance ends Failed
// after exactly 3 attempts, each with its own idempotency key, and the
// back-off between them is honoured across the restarts.
func TestCrashLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	dir := t.TempDir()
	db, logPath := filepath.Join(dir, "crashloop.db"), filepath.Join(dir, "attempts.log")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	eng, err := embedded.Open(ctx, db, embedded.Options{}) // a client: the worker is the child
	require.NoError(t, err)
	defer eng.Close()
	id, err := client.Start(ctx, eng, crashLoop, struct{}{}, client.WithInstanceID("crash-loop"))
	require.NoError(t, err)

	const maxRestarts = 8 // a worker that retried forever would need more
	var st *client.Status
	for restart := 0; ; restart++ {
		require.Less(t, restart, maxRestarts, "the instance never ended: the crash loop is not bounded by MaxAttempts")
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashLoopChild$", "-test.v=false")
		cmd.Env = append(os.Environ(), "CLOUDBUTTON_CRASHLOOP_DB="+db, "CLOUDBUTTON_CRASHLOOP_LOG="+logPath)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		ended := make(chan *client.Status, 1)
		wctx, stop := context.WithCancel(ctx)
		go func() {
			if s, err := eng.Wait(wctx, id); err == nil {
				ended <- s
			}
		}()
		select {
		case <-exited: // the activity killed it: start the next worker
			stop()
			continue
		case st = <-ended:
		case <-ctx.Done():
			t.Fatal("timed out")
		}
		stop()
		_ = cmd.Process.Kill()
		<-exited
		break
	}
	assert.Equal(t, client.StatusFailed, st.RuntimeStatus)
	require.NotNil(t, st.Failure)
	assert.Contains(t, st.Failure.Message, "attempt 3 was interrupted")

	data, err := os.ReadFile(logPath)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 3, "exactly 3 attempts ran: %q", lines)
	var keys []string
	var at []time.Time
	for _, l := range lines {
		var key string
		var ns int64
		_, err := fmt.Sscanf(l, "%s %d", &key, &ns)
		require.NoError(t, err)
		keys, at = append(keys, key), append(at, time.Unix(0, ns))
	}
	run := strings.Split(keys[0], "/")[1] // "<instance>/<run>/<task>/<attempt>"
	assert.Equal(t, []string{"crash-loop/" + run + "/1/1", "crash-loop/" + run + "/1/2", "crash-loop/" + run + "/1/3"}, keys,
		"3 distinct idempotency keys of one run")
	assert.GreaterOrEqual(t, at[1].Sub(at[0]), crashLoopBackoff, "back-off before attempt 2")
	assert.GreaterOrEqual(t, at[2].Sub(at[1]), 2*crashLoopBackoff, "back-off before attempt 3")

	// Every attempt is kept across the crashes: started (marked before it
	// ran), interrupted, found by the next worker, and retried after the
	// back-off from then.
	as, err := eng.ActivityAttempts(ctx, id)
	require.NoError(t, err)
	require.Len(t, as, 3, "%+v", as)
	for i, a := range as {
		assert.Equal(t, i+1, a.Attempt)
		assert.Equal(t, client.AttemptFailed, a.State)
		require.NotNil(t, a.Failure, "attempt %d", i+1)
		assert.Equal(t, "Interrupted", a.Failure.Type)
		require.False(t, a.StartedAt.IsZero() || a.FinishedAt.IsZero(), "attempt %d: %+v", i+1, a)
		assert.False(t, a.StartedAt.Before(a.ScheduledAt), "attempt %d started after it was due", i+1)
		assert.False(t, at[i].Before(a.StartedAt), "attempt %d ran after it was marked started", i+1)
		assert.True(t, a.FinishedAt.After(at[i]), "attempt %d finished when the next worker found it", i+1)
		if i > 0 {
			assert.Equal(t, crashLoopBackoff<<(i-1), a.ScheduledAt.Sub(as[i-1].FinishedAt), "attempt %d was due after the back-off", i+1)
		}
	}
}
