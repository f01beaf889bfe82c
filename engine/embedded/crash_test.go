package embedded_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var (
	slowStep = activity.New("slow-step", func(ctx context.Context, n int) (int, error) {
		time.Sleep(slowdown * 10 * time.Millisecond)
		return n, nil
	})
	crashFanOut = orchestration.New("crash-fan-out", func(ctx orchestration.Context, n int) (int, error) {
		fs := make([]orchestration.Future[int], n)
		for i := range fs {
			fs[i] = orchestration.Call(ctx, slowStep, i)
		}
		vals, err := orchestration.All(ctx, fs...).Await(ctx)
		sum := 0
		for _, v := range vals {
			sum += v
		}
		return sum, err
	})
	crashSequence = orchestration.New("crash-sequence", func(ctx orchestration.Context, n int) (int, error) {
		sum := 0
		for i := range n {
			v, err := orchestration.Call(ctx, slowStep, i).Await(ctx)
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	})
)

// TestCrashChild is the worker process of TestCrashSafety; it runs only
// when that test starts it, and until it is killed.
func TestCrashChild(t *testing.T) {
	db := os.Getenv("CLOUDBUTTON_CRASH_DB")
	if db == "" {
		t.Skip("run by TestCrashSafety")
	}
	eng, err := embedded.Open(context.Background(), db, embedded.Options{PollInterval: 10 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	w := worker.New(eng, worker.Options{MaxConcurrentActivities: 8})
	w.RegisterOrchestrators(crashFanOut, crashSequence)
	w.RegisterActivities(slowStep)
	if err := w.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	fmt.Println("ready")
	select {} // until SIGKILL
}

// TestCrashSafety kills a worker process with SIGKILL at random points of
// a 2,000-activity fan-out and a 200-step sequence, restarts it each time,
// and checks that both complete with the right result, with every
// activity's result recorded exactly once.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CLOUDBUTTON_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set CLOUDBUTTON_CRASH_SEED to repeat)", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	db := filepath.Join(t.TempDir(), "crash.db")

	// A guard against a hang only (a loaded machine is slower): 15 minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	eng, err := embedded.Open(ctx, db, embedded.Options{}) // a client only: the worker is the child
	require.NoError(t, err)
	defer eng.Close()
	fanID, err := client.Start(ctx, eng, crashFanOut, 2000, client.WithInstanceID("fan-out"))
	require.NoError(t, err)

	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v=false")
		cmd.Env = append(os.Environ(), "CLOUDBUTTON_CRASH_DB="+db)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		// Kill only once the worker runs (a race-enabled binary starts slowly).
		line, err := bufio.NewReader(out).ReadString('\n')
		require.NoError(t, err, "worker process did not start")
		require.Equal(t, "ready\n", line)
		return cmd
	}
	// Each phase kills the worker at random points until its orchestration
	// has completed; a kill counts when the orchestration was still running.
	phase := func(id string) int {
		kills := 0
		for i := 0; ; i++ {
			require.Less(t, i, 1000, "no progress after %d restarts", i)
			cmd := child()
			// Alternate early kills (start-up, first steps) with later ones.
			if i%2 == 0 {
				time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
			} else {
				time.Sleep(slowdown * time.Duration(100+rng.IntN(300)) * time.Millisecond)
			}
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			_ = cmd.Wait()
			st, err := eng.Status(ctx, id)
			require.NoError(t, err)
			if st.RuntimeStatus.Terminal() {
				return kills
			}
			kills++
			t.Logf("%s: kill %d at %d/%d activities", id, kills, st.ActivitiesDone, st.ActivitiesTotal)
		}
	}
	fanKills := phase(fanID)
	seqID, err := client.Start(ctx, eng, crashSequence, 200, client.WithInstanceID("sequence"))
	require.NoError(t, err)
	seqKills := phase(seqID)
	t.Logf("killed the worker %d times during the fan-out and %d times during the sequence", fanKills, seqKills)
	assert.GreaterOrEqual(t, fanKills+seqKills, 20, "at least 20 kills hit running orchestrations")
	assert.GreaterOrEqual(t, min(fanKills, seqKills), 5, "both workloads were hit")

	fan, err := client.Result(ctx, eng, crashFanOut, fanID)
	require.NoError(t, err)
	assert.Equal(t, 2000*1999/2, fan)
	seq, err := client.Result(ctx, eng, crashSequence, seqID)
	require.NoError(t, err)
	assert.Equal(t, 200*199/2, seq)

	for _, id := range []string{fanID, seqID} {
		var buf bytesBuffer
		require.NoError(t, eng.ExportHistory(ctx, id, &buf))
		h, err := replay.ReadHistory(&buf)
		require.NoError(t, err)
		scheduled, completed := map[int64]int{}, map[int64]int{}
		for _, e := range h.Events {
			switch e.Type {
			case replay.ActivityScheduled:
				scheduled[e.TaskID]++
			case replay.ActivityCompleted, replay.ActivityFailed:
				completed[e.TaskID]++
			}
		}
		for task, n := range scheduled {
			assert.Equal(t, 1, n, "%s: task %d scheduled once", id, task)
			assert.Equal(t, 1, completed[task], "%s: task %d completed exactly once", id, task)
		}
		for i, e := range h.Events {
			assert.Equal(t, int64(i), e.Index, "%s: history has no gaps", id)
		}

		// Each call's attempts: those lost with a worker are Interrupted,
		// numbered in order, and the last one completed.
		as, err := eng.ActivityAttempts(ctx, id)
		require.NoError(t, err)
		next, rerun := map[int64]int{}, 0
		for _, a := range as {
			next[a.TaskID]++
			require.Equal(t, next[a.TaskID], a.Attempt, "%s: task %d's attempts are numbered in order", id, a.TaskID)
			if a.State == client.AttemptCompleted {
				assert.False(t, a.StartedAt.IsZero(), "%s: task %d: the completed attempt's start is known", id, a.TaskID)
				continue
			}
			rerun++
			assert.Equal(t, client.AttemptFailed, a.State, "%s: task %d attempt %d", id, a.TaskID, a.Attempt)
			if assert.NotNil(t, a.Failure) {
				assert.Equal(t, "Interrupted", a.Failure.Type)
			}
		}
		assert.Len(t, next, len(scheduled), "%s: every call is listed", id)
		assert.Len(t, as, len(scheduled)+rerun, "%s: one completed attempt per call", id)
		t.Logf("%s: %d attempts lost with a worker and run again", id, rerun)
	}
}
