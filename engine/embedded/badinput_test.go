package embedded_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var waitForEvent = orchestration.New("wait-for-event", func(ctx orchestration.Context, _ struct{}) (string, error) {
	return orchestration.WaitEvent[string](ctx, "go", 0).Await(ctx)
})

func TestBadInput(t *testing.T) {
	eng, _ := start(t, embedded.Options{MaxPayload: 1000, CheckNames: true}, waitForEvent)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	_, err := eng.StartRaw(ctx, "no-such-orchestrator", []byte(`1`), client.StartOptions{})
	require.ErrorIs(t, err, client.ErrUnknownName)
	assert.Contains(t, err.Error(), `"no-such-orchestrator"`)
	assert.Contains(t, err.Error(), "bench.fanout", "the error lists what is registered (CheckNames)")

	_, err = eng.StartRaw(ctx, fanOut.Name(), []byte(strings.Repeat("1", 2000)), client.StartOptions{})
	var size *codec.SizeError
	require.ErrorAs(t, err, &size)
	assert.Equal(t, 2000, size.Size)
	assert.Equal(t, 1000, size.Limit)
	assert.Contains(t, err.Error(), "2000 bytes, over the payload limit of 1000 bytes")

	id, err := eng.StartRaw(ctx, fanOut.Name(), []byte(`"not a number"`), client.StartOptions{})
	require.NoError(t, err)
	st, err := eng.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusFailed, st.RuntimeStatus, "undecodable input fails the instance; it is not stuck")
	assert.Equal(t, "DecodeError", st.Failure.Type)
	assert.Contains(t, st.Failure.Message, `input of orchestration "bench.fanout" does not decode into int`)

	assert.ErrorIs(t, eng.RaiseEventRaw(ctx, id, "go", []byte(`"x"`)), client.ErrNotRunning, "event for a finished instance")
	assert.ErrorIs(t, eng.RaiseEventRaw(ctx, "unknown", "go", []byte(`"x"`)), client.ErrNotFound, "event for an unknown instance")
	var big *codec.SizeError
	assert.ErrorAs(t, eng.RaiseEventRaw(ctx, id, "go", []byte(`"`+strings.Repeat("x", 2000)+`"`)), &big)

	// Instance ids and reuse policies.
	live, err := client.Start(ctx, eng, waitForEvent, struct{}{}, client.WithInstanceID("live"))
	require.NoError(t, err)
	_, err = client.Start(ctx, eng, waitForEvent, struct{}{}, client.WithInstanceID("live"))
	assert.ErrorIs(t, err, client.ErrAlreadyExists, "a live instance is not replaced by default")
	_, err = client.Start(ctx, eng, fanOut, 3, client.WithInstanceID(id), client.WithReusePolicy(client.RejectDuplicate))
	assert.ErrorIs(t, err, client.ErrAlreadyExists, "RejectDuplicate refuses even a finished one")
	_, err = client.Start(ctx, eng, fanOut, 3, client.WithInstanceID(id))
	require.NoError(t, err, "a finished instance is replaced by default")
	out, err := client.Result(ctx, eng, fanOut, id)
	require.NoError(t, err)
	assert.Equal(t, 3, out)
	_, err = client.Start(ctx, eng, fanOut, 4, client.WithInstanceID(live), client.WithReusePolicy(client.TerminateIfRunning))
	require.NoError(t, err)
	out, err = client.Result(ctx, eng, fanOut, live)
	require.NoError(t, err)
	assert.Equal(t, 6, out, "TerminateIfRunning replaced the waiting instance")
}

func TestSecondWorkerIsRefused(t *testing.T) {
	_, path := start(t, embedded.Options{})
	other, err := embedded.Open(context.Background(), path, embedded.Options{})
	require.NoError(t, err, "clients may share the file")
	defer other.Close()
	w := worker.New(other, worker.Options{})
	err = w.Start(context.Background())
	require.ErrorIs(t, err, embedded.ErrWorkerRunning)
	assert.Contains(t, err.Error(), "is used by the worker of process")
}

func TestTimersAndEventsSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "restart.db")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sleeper := orchestration.New("sleeper", func(ctx orchestration.Context, d time.Duration) (string, error) {
		if err := orchestration.Sleep(ctx, d); err != nil {
			return "", err
		}
		return orchestration.WaitEvent[string](ctx, "go", 0).Await(ctx)
	})
	run := func(fn func(eng *embedded.Engine)) {
		eng, err := embedded.Open(ctx, path, embedded.Options{PollInterval: 10 * time.Millisecond})
		require.NoError(t, err)
		w := worker.New(eng, worker.Options{})
		w.RegisterOrchestrators(sleeper)
		require.NoError(t, w.Start(ctx))
		fn(eng)
		require.NoError(t, w.Stop(ctx))
		require.NoError(t, eng.Close())
	}
	var id string
	run(func(eng *embedded.Engine) {
		var err error
		id, err = client.Start(ctx, eng, sleeper, 300*time.Millisecond)
		require.NoError(t, err)
		require.NoError(t, client.RaiseEvent(ctx, eng, id, "go", "after the restart"))
	})
	time.Sleep(400 * time.Millisecond) // the timer is due while no worker runs
	run(func(eng *embedded.Engine) {
		out, err := client.Result(ctx, eng, sleeper, id)
		require.NoError(t, err)
		assert.Equal(t, "after the restart", out, "the buffered event and the durable timer survived")
	})
}

func TestWaitHonoursContext(t *testing.T) {
	eng, _ := start(t, embedded.Options{}, waitForEvent)
	id, err := client.Start(context.Background(), eng, waitForEvent, struct{}{})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = eng.Wait(ctx, id)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), err)
	require.NoError(t, eng.Terminate(context.Background(), id, "test over"))
	st, err := eng.Wait(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusTerminated, st.RuntimeStatus)
}

func TestHeartbeatTimeout(t *testing.T) {
	beats := activity.New("beats", func(ctx context.Context, stopAfter time.Duration) (string, error) {
		start := time.Now()
		for {
			if time.Since(start) < stopAfter {
				activity.Heartbeat(ctx, time.Since(start))
			}
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
			if time.Since(start) > 300*time.Millisecond {
				return "done", nil
			}
		}
	})
	o := orchestration.New("heartbeats", func(ctx orchestration.Context, stopAfter time.Duration) (string, error) {
		return orchestration.Call(ctx, beats, stopAfter, orchestration.WithHeartbeatTimeout(100*time.Millisecond)).Await(ctx)
	})
	eng, _ := start(t, embedded.Options{}, o, beats)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	id, err := client.Start(ctx, eng, o, time.Hour) // heartbeats throughout
	require.NoError(t, err)
	out, err := client.Result(ctx, eng, o, id)
	require.NoError(t, err)
	assert.Equal(t, "done", out)

	id, err = client.Start(ctx, eng, o, 50*time.Millisecond) // then falls silent
	require.NoError(t, err)
	_, err = client.Result(ctx, eng, o, id)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sent no heartbeat for 100ms")
	assert.Contains(t, err.Error(), "Timeout")
}

// TestClientHonoursEngineLimits: the typed client leaves the size check to
// the engine, whose limit may be above the 2 MiB default (before, a 3 MiB
// input was refused at 2 MiB by the client whatever the engine allowed).
func TestClientHonoursEngineLimits(t *testing.T) {
	eng, _ := start(t, embedded.Options{MaxPayload: 8 << 20}, waitForEvent)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	big := strings.Repeat("x", 3<<20)
	id, err := client.Start(ctx, eng, waitForEvent, struct{}{})
	require.NoError(t, err)
	require.NoError(t, client.RaiseEvent(ctx, eng, id, "go", big), "3 MiB under an 8 MiB limit")
	got, err := client.Result(ctx, eng, waitForEvent, id)
	require.NoError(t, err)
	assert.Len(t, got, len(big))

	id, err = client.Start(ctx, eng, waitForEvent, struct{}{})
	require.NoError(t, err)
	var size *codec.SizeError
	require.ErrorAs(t, client.RaiseEvent(ctx, eng, id, "go", strings.Repeat("x", 9<<20)), &size, "9 MiB over it")
	assert.Equal(t, 8<<20, size.Limit)
}

// TestAnyTextRoundTrips: ids and names with control characters round-trip
// exactly and leave the worker working (before, the event encoder wrote Go
// escapes that are not JSON, and the worker stopped reading its inbox);
// invalid UTF-8 is refused at the client, naming what was wrong.
func TestAnyTextRoundTrips(t *testing.T) {
	eng, _ := start(t, embedded.Options{}, waitForEvent)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range []string{"\x01x", "bell\a", "esc\x1b[0m", "del\x7f", "tag\U000E0001"} {
		got, err := client.Start(ctx, eng, waitForEvent, struct{}{}, client.WithInstanceID(id))
		require.NoError(t, err)
		require.Equal(t, id, got)
		require.NoError(t, client.RaiseEvent(ctx, eng, id, "go", "for "+id))
		out, err := client.Result(ctx, eng, waitForEvent, id)
		require.NoError(t, err, "instance %q", id)
		assert.Equal(t, "for "+id, out)
	}
	_, err := client.Start(ctx, eng, waitForEvent, struct{}{}, client.WithInstanceID("bad\xff"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "instance id")
	assert.Contains(t, err.Error(), "not valid UTF-8")
}
