package conformance

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// FeatureStartKeys: deduplicated and debounced starts (client.WithDedup,
// client.WithDebounce).
const FeatureStartKeys Feature = "start-keys"

var startKeyCases = []struct {
	name string
	fn   func(*testing.T, Engine)
}{
	{"DedupWithinTheWindow", testDedupWithinWindow},
	{"DedupAfterTheWindow", testDedupAfterWindow},
	{"DebounceLastInputOneRun", testDebounce},
	{"StartKeysBadInput", testStartKeysBadInput},
}

type skJob struct {
	Tag   string
	Value int
	Sleep time.Duration
}

var skEcho = orchestration.New("sk-echo", func(ctx orchestration.Context, j skJob) (int, error) {
	if j.Sleep > 0 {
		if err := orchestration.Sleep(ctx, j.Sleep); err != nil {
			return 0, err
		}
	}
	return j.Value, nil
})

func skStart(t *testing.T, e Engine) client.Client {
	if why := e.Unsupported(FeatureStartKeys); why != "" {
		t.Skip(why)
	}
	return e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(skEcho) })
}

func skTag(t *testing.T) string { return fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano()) }

// testDedupWithinWindow: a second start with the key, inside the window,
// returns the first instance, whose input stays the first.
func testDedupWithinWindow(t *testing.T, e Engine) {
	c := skStart(t, e)
	ctx := testContext(t)
	tag := skTag(t)
	a, err := client.Start(ctx, c, skEcho, skJob{Tag: tag, Value: 1}, client.WithDedup(tag, time.Hour))
	require.NoError(t, err)
	b, err := client.Start(ctx, c, skEcho, skJob{Tag: tag, Value: 2}, client.WithDedup(tag, time.Hour))
	require.NoError(t, err)
	assert.Equal(t, a, b, "the same instance within the window")
	out, err := client.Result(ctx, c, skEcho, a)
	require.NoError(t, err)
	assert.Equal(t, 1, out, "the first start's input")
	// Once it has ended too, within the window.
	again, err := client.Start(ctx, c, skEcho, skJob{Tag: tag, Value: 3}, client.WithDedup(tag, time.Hour))
	require.NoError(t, err)
	assert.Equal(t, a, again)
	other, err := client.Start(ctx, c, skEcho, skJob{Tag: tag, Value: 4}, client.WithDedup(tag+"-other", time.Hour))
	require.NoError(t, err)
	assert.NotEqual(t, a, other, "another key, another instance")
}

// testDedupAfterWindow: a start after the window creates a new
// instance. The first instance sleeps past its window (engine time), so
// the window has passed when it ends, however slow the machine.
func testDedupAfterWindow(t *testing.T, e Engine) {
	c := skStart(t, e)
	ctx := testContext(t)
	tag := skTag(t)
	const window = 50 * time.Millisecond
	a, err := client.Start(ctx, c, skEcho, skJob{Tag: tag, Value: 1, Sleep: 2 * window}, client.WithDedup(tag, window))
	require.NoError(t, err)
	_, err = client.Result(ctx, c, skEcho, a)
	require.NoError(t, err)
	b, err := client.Start(ctx, c, skEcho, skJob{Tag: tag, Value: 2}, client.WithDedup(tag, window))
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "a new instance after the window")
	out, err := client.Result(ctx, c, skEcho, b)
	require.NoError(t, err)
	assert.Equal(t, 2, out)
}

// testDebounce: three starts with one key within the window give one
// run, with the last input.
func testDebounce(t *testing.T, e Engine) {
	if why := e.Unsupported(FeatureWallClock); why != "" {
		t.Skip("debounce needs time to pass only between the starts: " + why +
			" (the debounced start is due at once); see the harness's own test")
	}
	c := skStart(t, e)
	ctx := testContext(t)
	tag := skTag(t)
	const window = 2 * time.Second
	began := time.Now()
	var ids []string
	for v := 1; v <= 3; v++ {
		id, err := client.Start(ctx, c, skEcho, skJob{Tag: tag, Value: v}, client.WithDebounce(tag, window))
		require.NoError(t, err)
		ids = append(ids, id)
	}
	if time.Since(began) > window/2 {
		t.Skipf("the three starts took %s, too close to the %s window on this machine", time.Since(began), window)
	}
	assert.Equal(t, ids[0], ids[1])
	assert.Equal(t, ids[0], ids[2])
	out, err := client.Result(ctx, c, skEcho, ids[0])
	require.NoError(t, err)
	assert.Equal(t, 3, out, "the last input")
	list, err := c.List(ctx, client.Filter{Name: skEcho.Name()})
	require.NoError(t, err)
	assert.Len(t, list, 1, "one instance")
	next, err := client.Start(ctx, c, skEcho, skJob{Tag: tag, Value: 4}, client.WithDebounce(tag, time.Millisecond))
	require.NoError(t, err)
	assert.NotEqual(t, ids[0], next, "a start after the run began is the next run")
}

// testStartKeysBadInput: empty keys, windows that are not positive and
// contradictory options are refused before anything is created.
//
// It runs on every engine: the options refuse them before the engine.
func testStartKeysBadInput(t *testing.T, e Engine) {
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(skEcho) })
	ctx := testContext(t)
	cases := []struct {
		opts []client.StartOption
		want string
	}{
		{[]client.StartOption{client.WithDedup("", time.Minute)}, `WithDedup("", 1m0s): empty key`},
		{[]client.StartOption{client.WithDedup("k", 0)}, `WithDedup("k", 0s): the window must be positive`},
		{[]client.StartOption{client.WithDebounce("k", -time.Second)}, `WithDebounce("k", -1s): the window must be positive`},
		{[]client.StartOption{client.WithDedup("k", time.Minute), client.WithDebounce("k", time.Minute)}, "choose one"},
		{[]client.StartOption{client.WithDebounce("k", time.Minute), client.WithStartAt(time.Now().Add(time.Hour))}, "WithDebounce and WithStartAt"},
	}
	for _, tc := range cases {
		_, err := client.Start(ctx, c, skEcho, skJob{}, tc.opts...)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
		assert.False(t, errors.Is(err, client.ErrAlreadyExists))
	}
	list, err := c.List(ctx, client.Filter{Name: skEcho.Name()})
	require.NoError(t, err)
	assert.Empty(t, list, "nothing created")
}
