package conformance

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// FeatureKeyLimits: the worker enforces worker.Options.KeyLimits exactly,
// over all instances, round robin between them.
const FeatureKeyLimits Feature = "key-limits"

// OptionsRestarter is implemented by engines that can restart a worker
// with options (the key-limit cases restart under their limits). The old
// worker is stopped at once: its attempts in flight have their context
// cancelled (as a kill would end them) and run again on the new one.
type OptionsRestarter interface {
	RestartWithOptions(t *testing.T, c client.Client, opts worker.Options, register func(w *worker.Worker))
}

var limitCases = []struct {
	name string
	fn   func(*testing.T, Engine)
}{
	{"KeyLimitInFlightAcrossInstances", testKeyLimitInFlight},
	{"KeyLimitFairness", testKeyLimitFairness},
	{"KeyLimitRate", testKeyLimitRate},
	{"KeyLimitSurvivesRestart", testKeyLimitRestart},
	{"KeyLimitAfterTerminate", testKeyLimitTerminate},
}

// klGate is a key's test state: its activities count who is in flight,
// record the most at once and the order of starts, and each waits for a
// token of release before it returns.
type klGate struct {
	inFlight, most atomic.Int64
	mu             sync.Mutex
	starts         []string // the tag of each start, in order
	release        chan struct{}
}

var klGates sync.Map // key -> *klGate

func klGateFor(key string) *klGate {
	g, _ := klGates.LoadOrStore(key, &klGate{release: make(chan struct{}, 1000)})
	return g.(*klGate)
}

func (g *klGate) started() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.starts)
}

// klCall is one keyed call: the key it names and a tag of its caller.
type klCall struct {
	Key, Tag string
	Gated    bool
}

var klWork = activity.New("kl-work", func(ctx context.Context, c klCall) (string, error) {
	g := klGateFor(c.Key)
	n := g.inFlight.Add(1)
	defer g.inFlight.Add(-1)
	for m := g.most.Load(); n > m && !g.most.CompareAndSwap(m, n); m = g.most.Load() {
	}
	g.mu.Lock()
	g.starts = append(g.starts, c.Tag)
	g.mu.Unlock()
	if !c.Gated {
		return c.Tag, nil
	}
	// It waits for its token, and sees a stop by ctx.Err: on the harness,
	// an attempt that waits on ctx.Done lets virtual time pass (as if it
	// waited for its timeout).
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-g.release:
			return c.Tag, nil
		case <-tick.C:
			if err := ctx.Err(); err != nil {
				return "", err
			}
		}
	}
})

// klFanOut calls kl-work N times under the key (as a default of the
// calls, so the key is computed from the input), and returns the
// elapsed orchestration time in milliseconds.
type klJob struct {
	Key, Tag string
	N        int
	Gated    bool
}

var klFanOut = orchestration.New("kl-fan-out", func(ctx orchestration.Context, j klJob) (int64, error) {
	start := ctx.Now()
	ctx = orchestration.WithCallOptions(ctx, orchestration.WithKey(j.Key))
	fs := make([]orchestration.Future[string], j.N)
	for i := range fs {
		fs[i] = orchestration.Call(ctx, klWork, klCall{Key: j.Key, Tag: j.Tag, Gated: j.Gated})
	}
	if _, err := orchestration.All(ctx, fs...).Await(ctx); err != nil {
		return 0, err
	}
	return ctx.Now().Sub(start).Milliseconds(), nil
})

func klRegister(w *worker.Worker) {
	w.RegisterOrchestrators(klFanOut)
	w.RegisterActivities(klWork)
}

// klStart starts a worker with limits, skipping engines that cannot.
func klStart(t *testing.T, e Engine, limits ...worker.KeyLimit) client.Client {
	if why := e.Unsupported(FeatureKeyLimits); why != "" {
		t.Skip(why)
	}
	ost, ok := e.(OptionsStarter)
	if !ok {
		t.Skip("the engine does not implement conformance.OptionsStarter")
	}
	return ost.StartWithOptions(t, worker.Options{KeyLimits: limits}, klRegister)
}

// klKey is a key of its own for each test (and run of it).
func klKey(t *testing.T) string { return fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano()) }

// releaseAll lets every gated attempt of g through, one at a time: each
// token goes once the bound is full again, and the bound is checked
// before each.
func releaseAll(t *testing.T, g *klGate, total, bound int) {
	t.Helper()
	for i := range total {
		want := min(i+bound, total)
		eventually(t, fmt.Sprintf("%d attempts started", want), func() bool { return g.started() >= want })
		assert.LessOrEqual(t, g.inFlight.Load(), int64(bound), "in flight before release %d", i)
		g.release <- struct{}{}
	}
}

// testKeyLimitInFlight: two instances share a key limited to 2 in
// flight; at no moment do more than 2 of their attempts run.
func testKeyLimitInFlight(t *testing.T, e Engine) {
	key := klKey(t)
	c := klStart(t, e, worker.KeyLimit{Key: key, MaxInFlight: 2})
	ctx := testContext(t)
	g := klGateFor(key)
	a, err := client.Start(ctx, c, klFanOut, klJob{Key: key, Tag: "a", N: 6, Gated: true})
	require.NoError(t, err)
	b, err := client.Start(ctx, c, klFanOut, klJob{Key: key, Tag: "b", N: 6, Gated: true})
	require.NoError(t, err)
	releaseAll(t, g, 12, 2)
	for _, id := range []string{a, b} {
		st, err := c.Wait(ctx, id)
		require.NoError(t, err)
		require.Equal(t, client.StatusCompleted, st.RuntimeStatus, "%+v", st.Failure)
	}
	assert.Equal(t, int64(2), g.most.Load(), "the most attempts of the key in flight at once")
}

// testKeyLimitFairness: a small instance whose calls arrive behind a
// large fan-out on a key limited to 1 in flight is served in turn, not
// after the whole fan-out.
func testKeyLimitFairness(t *testing.T, e Engine) {
	key := klKey(t)
	c := klStart(t, e, worker.KeyLimit{Key: key, MaxInFlight: 1})
	ctx := testContext(t)
	g := klGateFor(key)
	big, err := client.Start(ctx, c, klFanOut, klJob{Key: key, Tag: "big", N: 20, Gated: true})
	require.NoError(t, err)
	eventually(t, "the fan-out's first attempt runs", func() bool { return g.started() == 1 })
	small, err := client.Start(ctx, c, klFanOut, klJob{Key: key, Tag: "small", N: 2, Gated: true})
	require.NoError(t, err)
	eventually(t, "the small instance's calls are scheduled", func() bool {
		st, err := c.Status(ctx, small)
		return err == nil && st.ActivitiesTotal == 2
	})
	releaseAll(t, g, 22, 1)
	st, err := c.Wait(ctx, small)
	require.NoError(t, err)
	require.Equal(t, client.StatusCompleted, st.RuntimeStatus, "%+v", st.Failure)
	_, err = c.Wait(ctx, big)
	require.NoError(t, err)
	g.mu.Lock()
	starts := append([]string(nil), g.starts...)
	g.mu.Unlock()
	// Round robin: after the first big attempt, the two instances
	// alternate while both wait: small is done within the first 5 starts.
	var smallAt []int
	for i, tag := range starts {
		if tag == "small" {
			smallAt = append(smallAt, i)
		}
	}
	require.Len(t, smallAt, 2)
	assert.LessOrEqual(t, smallAt[1], 4, "starts in order: %v", starts)
}

// testKeyLimitRate: 6 calls on a key limited to 4 per second (bursts of
// 1) take at least 6/4 s, since the bucket starts empty: a bound that a
// slow machine cannot break (there is no bound on speed).
func testKeyLimitRate(t *testing.T, e Engine) {
	key := klKey(t)
	c := klStart(t, e, worker.KeyLimit{Key: key, PerSecond: 4, Burst: 1})
	ctx := testContext(t)
	id, err := client.Start(ctx, c, klFanOut, klJob{Key: key, Tag: "r", N: 6})
	require.NoError(t, err)
	elapsed, err := client.Result(ctx, c, klFanOut, id)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, elapsed, int64(1500), "6 starts at 4/s from an empty bucket (ms)")
	assert.Equal(t, 6, klGateFor(key).started())
}

// testKeyLimitRestart: a worker restarted while a key's attempts are
// in flight keeps the bound: the interrupted attempts run again, never
// more than 2 at once.
func testKeyLimitRestart(t *testing.T, e Engine) {
	key := klKey(t)
	limit := worker.KeyLimit{Key: key, MaxInFlight: 2}
	c := klStart(t, e, limit)
	r, ok := e.(OptionsRestarter)
	if !ok {
		t.Skip("the engine does not implement conformance.OptionsRestarter")
	}
	ctx := testContext(t)
	g := klGateFor(key)
	id, err := client.Start(ctx, c, klFanOut, klJob{Key: key, Tag: "a", N: 5, Gated: true})
	require.NoError(t, err)
	eventually(t, "2 attempts run", func() bool { return g.started() == 2 })
	// The worker stops at once: the gated attempts see their context end
	// and run again on the next worker.
	r.RestartWithOptions(t, c, worker.Options{KeyLimits: []worker.KeyLimit{limit}}, klRegister)
	g.mu.Lock()
	before := len(g.starts)
	g.mu.Unlock()
	for i := range 5 {
		want := before + min(i+2, 5)
		eventually(t, fmt.Sprintf("%d attempts started", want), func() bool { return g.started() >= want })
		assert.LessOrEqual(t, g.inFlight.Load(), int64(2))
		g.release <- struct{}{}
	}
	st, err := c.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusCompleted, st.RuntimeStatus)
	assert.LessOrEqual(t, g.most.Load(), int64(2), "the most attempts of the key in flight at once")
}

// testKeyLimitTerminate: terminating an instance whose attempts hold and
// wait for a key's slots gives the slots back: the next instance on the
// key runs.
func testKeyLimitTerminate(t *testing.T, e Engine) {
	key := klKey(t)
	c := klStart(t, e, worker.KeyLimit{Key: key, MaxInFlight: 1})
	ctx := testContext(t)
	g := klGateFor(key)
	a, err := client.Start(ctx, c, klFanOut, klJob{Key: key, Tag: "a", N: 5, Gated: true})
	require.NoError(t, err)
	eventually(t, "the first attempt runs", func() bool { return g.started() == 1 })
	require.NoError(t, c.Terminate(ctx, a, "stop"))
	st, err := c.Wait(ctx, a)
	require.NoError(t, err)
	require.Equal(t, client.StatusTerminated, st.RuntimeStatus)
	eventually(t, "the cancelled attempt ends", func() bool { return g.inFlight.Load() == 0 })
	b, err := client.Start(ctx, c, klFanOut, klJob{Key: key, Tag: "b", N: 2, Gated: true})
	require.NoError(t, err)
	g.release <- struct{}{}
	g.release <- struct{}{}
	st, err = c.Wait(ctx, b)
	require.NoError(t, err)
	assert.Equal(t, client.StatusCompleted, st.RuntimeStatus, "%+v", st.Failure)
	assert.Equal(t, int64(1), g.most.Load())
}
