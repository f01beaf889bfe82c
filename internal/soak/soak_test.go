package soak_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/soak"
)

var (
	kills = flag.Int("soak.kills", 50, "kills of the soak test")
	seed  = flag.Uint64("soak.seed", 0, "seed of the soak test (0: from the clock)")
	long  = flag.Bool("soak.long", false, "the campaign's workload sizes (fan-outs of 1,000, sequences of 200, ...) instead of the small ones")
	keep  = flag.Bool("soak.keep", false, "keep the soak directory (its path is logged)")
)

// TestSoakChild is a worker or loader process of TestSoak; it runs only
// when TestSoak starts it.
func TestSoakChild(t *testing.T) {
	if !soak.IsChild() {
		t.Skip("run by TestSoak")
	}
	if err := soak.RunChild(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "soak child:", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// TestSoak is the short soak of CI: 50 kills of the worker (bounded by
// kills, not by time) under two loaders running every workload at small
// sizes, then the verifier. -soak.kills, -soak.seed and -soak.long make
// it the long campaign.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker and loader processes")
	}
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-soak.seed %d repeats it)", s, s)
	opts := soak.Options{
		Command:  []string{os.Args[0], "-test.run=^TestSoakChild$", "-test.v=false"},
		Dir:      t.TempDir(),
		Seed:     s,
		Kills:    *kills,
		Sizes:    soak.SmallSizes(),
		Progress: logWriter{t},
	}
	if *long {
		opts.Sizes = soak.DefaultSizes()
	}
	if *keep {
		dir, err := os.MkdirTemp("", "cloudbutton-soak-")
		require.NoError(t, err)
		opts.Dir, opts.Keep = dir, true
	}
	rep, err := soak.Run(context.Background(), opts)
	require.NoError(t, err)
	var out strings.Builder
	require.NoError(t, rep.Print(&out))
	t.Log("\n" + out.String())
	assert.Equal(t, *kills, rep.Kills, "every kill of the schedule hit a running worker")
	assert.Positive(t, rep.EventsRaised, "the loaders raised events")
	for kind, byStatus := range rep.Instances {
		total := 0
		for _, n := range byStatus {
			total += n
		}
		assert.Positive(t, total, kind)
	}
	assert.GreaterOrEqual(t, len(rep.Instances), 9, "every workload ran: %v", rep.Instances)
	if !rep.OK() {
		t.Errorf("the soak found %d failures (seed %d; the table above lists them)", len(rep.Failures), s)
	}
}

// logWriter sends progress lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestManyClients: 50 loader processes start instances and raise events
// while the worker runs (and is killed a few times): no client sees an
// error (no SQLITE_BUSY), and no start or event is lost.
func TestManyClients(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 50 loader processes")
	}
	s := uint64(time.Now().UnixNano())
	t.Logf("seed %d", s)
	rep, err := soak.Run(context.Background(), soak.Options{
		Command:  []string{os.Args[0], "-test.run=^TestSoakChild$", "-test.v=false"},
		Dir:      t.TempDir(),
		Seed:     s,
		Kills:    10,
		Loaders:  50,
		Sizes:    soak.SmallSizes(),
		Progress: logWriter{t},
	})
	require.NoError(t, err)
	var out strings.Builder
	require.NoError(t, rep.Print(&out))
	t.Log("\n" + out.String())
	assert.Zero(t, rep.ClientErrors, "no client error")
	assert.Positive(t, rep.EventsRaised)
	assert.Equal(t, rep.EventsRaised, rep.EventsReceived, "raised = received")
	if !rep.OK() {
		t.Errorf("%d failures (seed %d; the table above lists them)", len(rep.Failures), s)
	}
}
