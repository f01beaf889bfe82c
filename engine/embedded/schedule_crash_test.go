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
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var crashTick = orchestration.New("crash-tick", func(ctx orchestration.Context, n int) (int, error) { return n, nil })

// Slots of the schedule crash test.
const (
	crashSlots    = 100
	crashInterval = 200 * time.Millisecond
)

// TestScheduleCrashChild is the worker process of TestScheduleCrash; it
// runs only when that test starts it, and until it is killed.
func TestScheduleCrashChild(t *testing.T) {
	db := os.Getenv("CLOUDBUTTON_SCHEDULE_CRASH_DB")
	if db == "" {
		t.Skip("run by TestScheduleCrash")
	}
	eng, err := embedded.Open(context.Background(), db, embedded.Options{PollInterval: 10 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(crashTick)
	if err := w.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	fmt.Println("ready")
	select {} // until SIGKILL
}

// TestScheduleCrash kills the worker process with SIGKILL at seeded random
// moments (during start-up, recovery and firing) while an interval
// schedule goes through 100 slots, restarting it each time, and checks
// that the schedule fired exactly 100 times: 100 instances, one per slot,
// consecutive slots, none missed, none twice.
func TestScheduleCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CLOUDBUTTON_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set CLOUDBUTTON_CRASH_SEED to repeat)", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	db := filepath.Join(t.TempDir(), "schedule-crash.db")
	// A guard against a hang only: 10 minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	eng, err := embedded.Open(ctx, db, embedded.Options{}) // a client only: the worker is the child
	require.NoError(t, err)
	defer eng.Close()
	sc, err := client.SchedulesOf(eng)
	require.NoError(t, err)
	// A catch-up window of an hour: every slot passed while no worker ran
	// is started when one is back, however slow the restarts.
	require.NoError(t, client.CreateSchedule(ctx, eng, "tick", client.Every(crashInterval), crashTick, 7,
		client.WithScheduleLimit(crashSlots), client.WithOverlap(client.OverlapAllowAll), client.WithCatchupWindow(time.Hour)))

	// child starts a worker process; with ready, it returns once the
	// worker runs, else at once (a kill then lands in start-up: opening
	// the file, recovery, the scheduler's first look).
	child := func(ready bool) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestScheduleCrashChild$", "-test.v=false")
		cmd.Env = append(os.Environ(), "CLOUDBUTTON_SCHEDULE_CRASH_DB="+db)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		if ready {
			line, err := bufio.NewReader(out).ReadString('\n')
			require.NoError(t, err, "worker process did not start")
			require.Equal(t, "ready\n", line)
		}
		return cmd
	}
	kills, hits, earlyKills := 0, 0, 0
	for {
		before, err := sc.DescribeSchedule(ctx, "tick")
		require.NoError(t, err)
		if before.Remaining == 0 {
			break
		}
		require.Less(t, kills, 2000, "no progress after %d kills", kills)
		// A fifth of the kills land in start-up; of the others, most
		// within a slot of the worker's start, some later.
		early := rng.IntN(5) == 0
		cmd := child(!early)
		life := time.Duration(rng.IntN(int(crashInterval)))
		switch {
		case early:
			life = time.Duration(rng.IntN(int(time.Second)))
		case kills%3 == 2:
			life = time.Duration(rng.IntN(int(3 * crashInterval)))
		}
		time.Sleep(life)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		kills++
		if early {
			earlyKills++
		}
		after, err := sc.DescribeSchedule(ctx, "tick")
		require.NoError(t, err)
		if after.Fired > before.Fired {
			hits++
		}
	}
	t.Logf("%d kills (%d in start-up), %d of them after the schedule fired in that worker's life", kills, earlyKills, hits)
	assert.GreaterOrEqual(t, hits, 10, "kills hit a firing worker")

	// A last worker runs the instances to their end.
	last := child(true)
	t.Cleanup(func() { _ = last.Process.Signal(syscall.SIGKILL); _ = last.Wait() })

	info, err := sc.DescribeSchedule(ctx, "tick")
	require.NoError(t, err)
	assert.Equal(t, crashSlots, info.Fired, "fired exactly once per slot")
	assert.Zero(t, info.Missed)
	assert.Zero(t, info.Skipped)
	all, err := eng.List(ctx, client.Filter{Name: crashTick.Name()})
	require.NoError(t, err)
	require.Len(t, all, crashSlots, "one instance per slot")
	slots := make(map[int64]bool, len(all))
	var first int64
	for _, st := range all {
		slot, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(st.InstanceID, "tick-"))
		require.NoError(t, err, st.InstanceID)
		n := slot.UnixNano() / int64(crashInterval)
		require.Zero(t, slot.UnixNano()%int64(crashInterval), "%s is on a slot", st.InstanceID)
		require.False(t, slots[n], "slot %s twice", st.InstanceID)
		slots[n] = true
		if first == 0 || n < first {
			first = n
		}
	}
	for n := first; n < first+crashSlots; n++ {
		require.True(t, slots[n], "slot %d of %d started", n-first, crashSlots)
	}
	for _, st := range all {
		out, err := client.Result(ctx, eng, crashTick, st.InstanceID)
		require.NoError(t, err)
		assert.Equal(t, 7, out)
	}
}
