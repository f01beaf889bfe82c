package embedded_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// meteredInvoker runs activities in-process and reports, for every
// attempt, 10ms of a 128 MB function, as a function platform would.
type meteredInvoker struct{ inner faas.Invoker }

var meteredAttempt = faas.Usage{BilledDuration: 10 * time.Millisecond, MemoryMB: 128}

func (m meteredInvoker) Invoke(ctx context.Context, req faas.Request) ([]byte, error) {
	out, err := m.inner.Invoke(ctx, req)
	faas.ReportUsage(ctx, meteredAttempt)
	return out, err
}

var (
	meteredStep = activity.New("metered-step", func(ctx context.Context, n int) (int, error) {
		time.Sleep(slowdown * 5 * time.Millisecond)
		return n, nil
	})
	meteredSequence = orchestration.New("metered-sequence", func(ctx orchestration.Context, n int) (int, error) {
		sum := 0
		for i := range n {
			v, err := orchestration.Call(ctx, meteredStep, i).Await(ctx)
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	})
)

// TestUsageCrashChild is the worker process of TestUsageSurvivesCrashes;
// it runs only when that test starts it, and until it is killed.
func TestUsageCrashChild(t *testing.T) {
	db := os.Getenv("CLOUDBUTTON_USAGE_CRASH_DB")
	if db == "" {
		t.Skip("run by TestUsageSurvivesCrashes")
	}
	eng, err := embedded.Open(context.Background(), db, embedded.Options{PollInterval: 10 * time.Millisecond, Logger: quiet()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	inner, err := faas.NewInProcess([]activity.Definition{meteredStep}, faas.InProcessOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	w := worker.New(eng, worker.Options{Invoker: meteredInvoker{inner: inner}, Logger: quiet()})
	w.RegisterOrchestrators(meteredSequence)
	w.RegisterActivities(meteredStep)
	if err := w.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	fmt.Println("ready")
	select {} // until SIGKILL
}

// TestUsageSurvivesCrashes kills a worker process with SIGKILL at random
// points of a sequence of metered activities and restarts it, until the
// sequence completes. After every kill, the usage recorded is exactly
// that of the outcomes in history (committed together: a crash neither
// loses nor doubles a recorded attempt's cost; an attempt lost with the
// process runs again and counts once), and so it is at the end.
func TestUsageSurvivesCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	db := filepath.Join(t.TempDir(), "usage.db")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a guard against a hang only
	defer cancel()
	eng, err := embedded.Open(ctx, db, embedded.Options{}) // a client only: the worker is the child
	require.NoError(t, err)
	defer eng.Close()
	const n = 60
	id, err := client.Start(ctx, eng, meteredSequence, n, client.WithInstanceID("metered"))
	require.NoError(t, err)

	outcomes := func() int64 {
		var buf bytesBuffer
		require.NoError(t, eng.ExportHistory(ctx, id, &buf))
		var h replay.History // empty when killed before its first step
		require.NoError(t, json.Unmarshal(buf.Bytes(), &h))
		var k int64
		for _, e := range h.Events {
			if e.Type == replay.ActivityCompleted || e.Type == replay.ActivityFailed {
				k++
			}
		}
		return k
	}
	for i := 0; ; i++ {
		require.Less(t, i, 500, "no progress after %d restarts", i)
		cmd := exec.Command(os.Args[0], "-test.run=^TestUsageCrashChild$", "-test.v=false")
		cmd.Env = append(os.Environ(), "CLOUDBUTTON_USAGE_CRASH_DB="+db)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		line, err := bufio.NewReader(out).ReadString('\n')
		require.NoError(t, err, "worker process did not start")
		require.Equal(t, "ready\n", line)
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()

		st, err := eng.Status(ctx, id)
		require.NoError(t, err)
		done := outcomes()
		require.NotNil(t, st.Usage)
		assert.Equal(t, done, st.Usage.Invocations, "kill %d: the usage recorded is that of the outcomes in history", i+1)
		assert.Equal(t, time.Duration(done)*meteredAttempt.BilledDuration, st.Usage.BilledDuration)
		if st.RuntimeStatus.Terminal() {
			break
		}
	}
	got, err := client.Result(ctx, eng, meteredSequence, id)
	require.NoError(t, err)
	assert.Equal(t, n*(n-1)/2, got)
	st, err := eng.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, &client.Usage{Invocations: n, BilledDuration: n * meteredAttempt.BilledDuration,
		GBSeconds: n * meteredAttempt.GBSeconds()}, st.Usage, "each activity's recorded attempt once")
}
