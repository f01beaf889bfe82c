package orchestrationtest_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

var rwQuote = activity.New("rw-quote", func(ctx context.Context, item string) (int, error) {
	panic("mocked")
})

// rwDeadline starts a 1h timer, gets a quote, and returns it when the
// timer fires.
var rwDeadline = orchestration.New("rw-deadline", func(ctx orchestration.Context, item string) (int, error) {
	timer := orchestration.NewTimer(ctx, time.Hour)
	q, err := orchestration.Call(ctx, rwQuote, item).Await(ctx)
	if err != nil {
		return 0, err
	}
	if _, err := timer.Await(ctx); err != nil {
		return 0, err
	}
	return q, nil
})

// TestRewind: the harness rewinds a failed run; a timer created before
// the failure still fires at its time, and history records the rewind.
func TestRewind(t *testing.T) {
	env := orchestrationtest.New(t)
	var fixed atomic.Bool
	calls := orchestrationtest.MockActivity(env, rwQuote, func(ctx context.Context, item string) (int, error) {
		if !fixed.Load() {
			return 0, activity.NewNonRetryableError("Down", "quote service down")
		}
		return 42, nil
	})
	start := env.Now()
	_, err := orchestrationtest.Run(env, rwDeadline, "book")
	require.ErrorContains(t, err, "quote service down")

	_, err = orchestrationtest.Rewind(env, rwDeadline, "")
	require.ErrorContains(t, err, "quote service down", "not fixed yet: it fails again")

	fixed.Store(true)
	got, err := orchestrationtest.Rewind(env, rwDeadline, "service back")
	require.NoError(t, err)
	assert.Equal(t, 42, got)
	assert.Equal(t, 3, calls.Count())
	assert.Equal(t, start.Add(time.Hour), env.Now(), "the timer fired at its time")
	var rewound []string
	for _, ev := range env.History() {
		if ev.Type == orchestrationtest.OrchestrationRewound {
			rewound = append(rewound, ev.Name)
		}
	}
	assert.Equal(t, []string{"rewound by client", "service back"}, rewound, "history keeps every rewind")

	_, err = orchestrationtest.Rewind(env, rwDeadline, "again")
	assert.ErrorIs(t, err, client.ErrNotRewindable)
}
