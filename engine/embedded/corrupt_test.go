package embedded_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var waitsForGo = orchestration.New("waits-for-go", func(ctx orchestration.Context, _ struct{}) (string, error) {
	return orchestration.WaitEvent[string](ctx, "go", 0).Await(ctx)
})

// TestCorruptRowsQuarantineOneInstance: a history row or inbox message of
// one instance that does not decode quarantines that instance, with the
// corruption in its status, and the others keep running. Before, the
// worker did not start ("recovery of ...: invalid character"), or stopped
// reading the inbox for everyone.
func TestCorruptRowsQuarantineOneInstance(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "app.db")
	run := func(fn func(eng *embedded.Engine)) {
		eng, err := embedded.Open(ctx, path, embedded.Options{PollInterval: 10 * time.Millisecond})
		require.NoError(t, err)
		defer eng.Close()
		w := worker.New(eng, worker.Options{})
		w.RegisterOrchestrators(waitsForGo)
		require.NoError(t, w.Start(ctx))
		defer w.Stop(context.Background())
		fn(eng)
	}
	ids := []string{"history-corrupt", "inbox-corrupt", "healthy"}
	run(func(eng *embedded.Engine) {
		for _, id := range ids {
			_, err := client.Start(ctx, eng, waitsForGo, struct{}{}, client.WithInstanceID(id))
			require.NoError(t, err)
		}
		for _, id := range ids {
			for {
				st, err := eng.Status(ctx, id)
				require.NoError(t, err)
				if st.RuntimeStatus == client.StatusRunning {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	})
	eng, err := embedded.Open(ctx, path, embedded.Options{}) // a client, no worker
	require.NoError(t, err)
	require.NoError(t, client.RaiseEvent(ctx, eng, "inbox-corrupt", "go", "later"))
	require.NoError(t, eng.Close())
	// The worker is gone, an event for inbox-corrupt waits in its inbox:
	// damage a history row of one instance and that message.
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE history SET event = 'X{not json' WHERE instance_id = 'history-corrupt' AND idx = 0`)
	require.NoError(t, err)
	res, err := db.Exec(`UPDATE inbox SET event = 'X{not json' WHERE instance_id = 'inbox-corrupt'`)
	require.NoError(t, err)
	n, _ := res.RowsAffected()
	require.EqualValues(t, 1, n)
	require.NoError(t, db.Close())

	run(func(eng *embedded.Engine) {
		require.NoError(t, client.RaiseEvent(ctx, eng, "healthy", "go", "ok"))
		got, err := client.Result(ctx, eng, waitsForGo, "healthy")
		require.NoError(t, err, "the healthy instance runs")
		assert.Equal(t, "ok", got)
		for _, id := range []string{"history-corrupt", "inbox-corrupt"} {
			var st *client.Status
			for st == nil || st.Blocked == "" {
				st, err = eng.Status(ctx, id)
				require.NoError(t, err)
				time.Sleep(5 * time.Millisecond)
			}
			assert.Equal(t, client.StatusRunning, st.RuntimeStatus, "%s is left as it was", id)
			assert.Contains(t, st.Blocked, "quarantined", id)
			assert.Contains(t, st.Blocked, "invalid character", "%s: the status says what is corrupt", id)
		}
	})
}
