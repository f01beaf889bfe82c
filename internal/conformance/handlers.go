package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// counterOrch keeps a count that a query reads and updates change, until the
// event "stop"; it returns the count.
var counterOrch = orchestration.New("counter", func(ctx orchestration.Context, start int) (int, error) {
	n := start
	err := errors.Join(
		orchestration.HandleQuery(ctx, "value", func(struct{}) (int, error) { return n, nil }),
		orchestration.HandleQuery(ctx, "schedules", func(struct{}) (int, error) {
			return orchestration.Call(ctx, double, n).Await(ctx) // not allowed in a query
		}),
		orchestration.HandleQuery(ctx, "panics", func(struct{}) (int, error) { panic("query boom") }),
		orchestration.HandleUpdate(ctx, "add", func(_ orchestration.Context, d int) (int, error) {
			n += d
			return n, nil
		}, orchestration.WithValidator(func(d int) error {
			if d == 13 {
				panic("unlucky 13")
			}
			if d <= 0 {
				return fmt.Errorf("add %d: must be positive", d)
			}
			return nil
		})),
		orchestration.HandleUpdate(ctx, "add-double", func(ctx orchestration.Context, d int) (int, error) {
			v, err := orchestration.Call(ctx, double, d).Await(ctx)
			if err != nil {
				return 0, err
			}
			n += v
			return n, nil
		}),
		orchestration.HandleUpdate(ctx, "waits", func(ctx orchestration.Context, _ int) (int, error) {
			return orchestration.WaitEvent[int](ctx, "never", 0).Await(ctx)
		}),
		orchestration.HandleUpdate(ctx, "fails", func(orchestration.Context, int) (int, error) {
			return 0, errors.New("handler said no")
		}),
	)
	if err != nil {
		return 0, err
	}
	_, err = orchestration.WaitEvent[struct{}](ctx, "stop", 0).Await(ctx)
	return n, err
})

// startCounter starts a counterOrch at start and waits until it answers
// queries.
func startCounter(t *testing.T, e Engine, start int) (context.Context, client.Client, string) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(counterOrch)
		w.RegisterActivities(double)
	})
	id, err := client.Start(ctx, c, counterOrch, start)
	require.NoError(t, err)
	eventually(t, "the counterOrch answers queries", func() bool {
		_, err := client.Query[int](ctx, c, id, "value", struct{}{})
		return err == nil
	})
	return ctx, c, id
}

func queryValue(ctx context.Context, t *testing.T, c client.Client, id string) int {
	t.Helper()
	v, err := client.Query[int](ctx, c, id, "value", struct{}{})
	require.NoError(t, err)
	return v
}

func exportHistory(ctx context.Context, t *testing.T, c client.Client, id string) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, c.ExportHistory(ctx, id, &b))
	return b.Bytes()
}

// updateEvents counts the update events of an export, in either engine's
// format (UpdateCompleted, or Temporal's
// EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED).
func updateEvents(export []byte) (accepted, completed int) {
	s := strings.ToLower(strings.ReplaceAll(string(export), "_", ""))
	return strings.Count(s, `updateaccepted"`), strings.Count(s, `updatecompleted"`)
}

func stopCounter(ctx context.Context, t *testing.T, c client.Client, id string) int {
	t.Helper()
	require.NoError(t, client.RaiseEvent(ctx, c, id, "stop", struct{}{}))
	out, err := client.Result(ctx, c, counterOrch, id)
	require.NoError(t, err)
	return out
}

func testQueryReadsState(t *testing.T, e Engine) {
	ctx, c, id := startCounter(t, e, 5)
	assert.Equal(t, 5, queryValue(ctx, t, c, id))
	before := exportHistory(ctx, t, c, id)
	for _, q := range []struct{ name, msg string }{{"schedules", ""}, {"panics", "query boom"}} {
		_, err := client.Query[int](ctx, c, id, q.name, struct{}{})
		require.ErrorIs(t, err, client.ErrQueryFailed, q.name)
		assert.Contains(t, err.Error(), q.name)
		assert.Contains(t, err.Error(), q.msg)
	}
	_, err := client.Query[int](ctx, c, id, "no-such-query", struct{}{})
	require.ErrorIs(t, err, client.ErrUnknownHandler)
	assert.Contains(t, err.Error(), "no-such-query")
	assert.Equal(t, 5, queryValue(ctx, t, c, id), "the instance goes on")
	assert.Equal(t, string(before), string(exportHistory(ctx, t, c, id)), "queries record nothing")
	assert.Equal(t, 5, stopCounter(ctx, t, c, id))
}

func testUpdateIsRecorded(t *testing.T, e Engine) {
	ctx, c, id := startCounter(t, e, 5)
	got, err := client.Update[int](ctx, c, id, "add", 3)
	require.NoError(t, err)
	assert.Equal(t, 8, got)
	assert.Equal(t, 8, queryValue(ctx, t, c, id))
	accepted, completed := updateEvents(exportHistory(ctx, t, c, id))
	assert.Equal(t, 1, accepted, "UpdateAccepted in history")
	assert.Equal(t, 1, completed, "UpdateCompleted in history")
	_, err = client.Update[int](ctx, c, id, "fails", 1)
	require.ErrorIs(t, err, client.ErrUpdateFailed)
	assert.Contains(t, err.Error(), "handler said no")
	assert.Equal(t, 8, stopCounter(ctx, t, c, id))
}

func testUpdateRejected(t *testing.T, e Engine) {
	ctx, c, id := startCounter(t, e, 5)
	before := exportHistory(ctx, t, c, id)
	_, err := client.Update[int](ctx, c, id, "add", -1)
	require.ErrorIs(t, err, client.ErrUpdateRejected)
	assert.Contains(t, err.Error(), "must be positive")
	_, err = client.Update[int](ctx, c, id, "add", "not a number")
	require.ErrorIs(t, err, client.ErrUpdateRejected, "an argument that does not decode")
	assert.Equal(t, string(before), string(exportHistory(ctx, t, c, id)), "a rejected update leaves no trace")
	assert.Equal(t, 5, queryValue(ctx, t, c, id))
	assert.Equal(t, 5, stopCounter(ctx, t, c, id))
}

func testValidatorPanics(t *testing.T, e Engine) {
	ctx, c, id := startCounter(t, e, 5)
	_, err := client.Update[int](ctx, c, id, "add", 13)
	require.ErrorIs(t, err, client.ErrUpdateRejected)
	assert.Contains(t, err.Error(), "unlucky 13")
	got, err := client.Update[int](ctx, c, id, "add", 1)
	require.NoError(t, err, "the instance keeps running")
	assert.Equal(t, 6, got)
	assert.Equal(t, 6, stopCounter(ctx, t, c, id))
}

func testUpdateBadTargets(t *testing.T, e Engine) {
	ctx, c, id := startCounter(t, e, 5)
	_, err := client.Update[int](ctx, c, id, "no-such-update", 1)
	require.ErrorIs(t, err, client.ErrUnknownHandler)
	assert.Contains(t, err.Error(), "no-such-update")
	assert.Equal(t, 5, stopCounter(ctx, t, c, id))
	_, err = client.Update[int](ctx, c, id, "add", 1)
	require.ErrorIs(t, err, client.ErrNotRunning, "an update to a finished instance")
	assert.Contains(t, err.Error(), id)
	_, err = client.Query[int](ctx, c, id, "value", struct{}{})
	require.ErrorIs(t, err, client.ErrNotRunning, "a query to a finished instance")
	_, err = client.Update[int](ctx, c, "no-such-instance", "add", 1)
	require.ErrorIs(t, err, client.ErrNotFound)
}

func testUpdateAwaitsActivity(t *testing.T, e Engine) {
	ctx, c, id := startCounter(t, e, 5)
	got, err := client.Update[int](ctx, c, id, "add-double", 4)
	require.NoError(t, err)
	assert.Equal(t, 13, got)
	assert.Equal(t, 13, stopCounter(ctx, t, c, id))
}

func registerCounter(w *worker.Worker) {
	w.RegisterOrchestrators(counterOrch)
	w.RegisterActivities(double)
}

// testUpdatesReplay restarts the worker under an instance that took
// updates: the new worker rebuilds it from history, updates included,
// and answers from the same state.
func testUpdatesReplay(t *testing.T, e Engine) {
	r := redeployer(t, e)
	ctx, c, id := startCounter(t, e, 5)
	for _, u := range []struct {
		name string
		arg  int
	}{{"add", 2}, {"add-double", 3}, {"add", 1}} {
		_, err := client.Update[int](ctx, c, id, u.name, u.arg)
		require.NoError(t, err)
	}
	r.Restart(t, c, registerCounter)
	eventually(t, "the restarted worker answers queries", func() bool {
		v, err := client.Query[int](ctx, c, id, "value", struct{}{})
		return err == nil && v == 14
	})
	got, err := client.Update[int](ctx, c, id, "add", 1)
	require.NoError(t, err)
	assert.Equal(t, 15, got)
	assert.Equal(t, 15, stopCounter(ctx, t, c, id))
}

// testConcurrentUpdates sends updates from several goroutines at once:
// each is answered with its own result, and none is lost.
func testConcurrentUpdates(t *testing.T, e Engine) {
	ctx, c, id := startCounter(t, e, 0)
	const n = 10
	results := make(chan int, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			v, err := client.Update[int](ctx, c, id, "add", 1)
			results <- v
			errs <- err
		}()
	}
	seen := map[int]bool{}
	for range n {
		require.NoError(t, <-errs)
		seen[<-results] = true
	}
	assert.Len(t, seen, n, "every update saw its own count (1 to n)")
	accepted, completed := updateEvents(exportHistory(ctx, t, c, id))
	assert.Equal(t, n, accepted)
	assert.Equal(t, n, completed)
	assert.Equal(t, n, stopCounter(ctx, t, c, id))
}

// testUpdateOutlivedByItsInstance: an accepted update whose handler has
// not returned when the instance ends is answered ErrNotRunning.
func testUpdateOutlivedByItsInstance(t *testing.T, e Engine) {
	ctx, c, id := startCounter(t, e, 5)
	errs := make(chan error, 1)
	go func() {
		_, err := client.Update[int](ctx, c, id, "waits", 0)
		errs <- err
	}()
	eventually(t, "the update is accepted", func() bool {
		accepted, _ := updateEvents(exportHistory(ctx, t, c, id))
		return accepted == 1
	})
	assert.Equal(t, 5, stopCounter(ctx, t, c, id))
	err := <-errs
	require.ErrorIs(t, err, client.ErrNotRunning)
	assert.Contains(t, err.Error(), id)
}
