package orchestrationtest_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

// TestExportedAttemptsReplay: the attempts a history records (each
// result's start and the attempts retried before it) are in its export,
// and information only: the export replays.
func TestExportedAttemptsReplay(t *testing.T) {
	env := orchestrationtest.New(t)
	tries := 0
	orchestrationtest.MockActivity(env, fetchPage, func(ctx context.Context, url string) (string, error) {
		if tries++; tries < 3 {
			return "", activity.NewError("Unavailable", "try again")
		}
		return "<html>", nil
	})
	_, err := orchestrationtest.Run(env, crawl, "https://example.com")
	require.NoError(t, err)
	as := env.ActivityAttempts()
	require.Len(t, as, 3)
	assert.Equal(t, []client.AttemptState{client.AttemptFailed, client.AttemptFailed, client.AttemptCompleted},
		[]client.AttemptState{as[0].State, as[1].State, as[2].State})

	var buf bytes.Buffer
	require.NoError(t, env.ExportHistory(&buf))
	assert.Contains(t, buf.String(), `"attempts": {`)
	assert.Contains(t, buf.String(), `"retried": [`)
	require.NoError(t, orchestrationtest.ReplayHistory(bytes.NewReader(buf.Bytes()), crawl))
}

// TestInstanceActivityAttemptsOfAnUnknownInstance: an id no instance of
// the run has fails the test (outside one, panics).
func TestInstanceActivityAttemptsOfAnUnknownInstance(t *testing.T) {
	env := orchestrationtest.New(nil)
	defer env.Close()
	orchestrationtest.MockActivity(env, fetchPage, func(ctx context.Context, url string) (string, error) { return "", nil })
	_, err := orchestrationtest.Run(env, crawl, "x")
	require.NoError(t, err)
	assert.Len(t, env.InstanceActivityAttempts("test-instance"), 1)
	assert.PanicsWithValue(t, `orchestrationtest: InstanceActivityAttempts("nope"): no such instance in the run`,
		func() { env.InstanceActivityAttempts("nope") })
}
