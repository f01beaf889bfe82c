package cloudbutton

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/internal/bench"
	"github.com/cloudbutton/cloudbutton/worker"
)

func TestParse(t *testing.T) {
	tests := []struct {
		address string
		want    config
		bad     string // part of the error, when refused
	}{
		{address: "sqlite:app.db", want: config{scheme: "sqlite", path: "app.db"}},
		{address: "sqlite://data/app.db?durability=power-loss&poll-interval=20ms",
			want: config{scheme: "sqlite", path: "data/app.db", durability: embedded.PowerLoss, pollInterval: 20 * time.Millisecond}},
		{address: "sqlite:///tmp/app.db?check-names=true", want: config{scheme: "sqlite", path: "/tmp/app.db", checkNames: true}},
		{address: "sqlite:dir with space/100%#1.db", want: config{scheme: "sqlite", path: "dir with space/100%#1.db"}},
		{address: "temporal://127.0.0.1:7233", want: config{scheme: "temporal", hostPort: "127.0.0.1:7233", namespace: "default", taskQueue: "cloudbutton"}},
		{address: "temporal://temporal.internal:7233/orders?task-queue=fulfil",
			want: config{scheme: "temporal", hostPort: "temporal.internal:7233", namespace: "orders", taskQueue: "fulfil"}},
		{address: "app.db", bad: "no scheme"},
		{address: "postgres://db/app", bad: `unknown scheme "postgres"`},
		{address: "sqlite:", bad: "no database path"},
		{address: "sqlite:app.db?durability=sometimes", bad: `durability="sometimes"`},
		{address: "sqlite:app.db?poll-interval=soon", bad: "not a positive duration"},
		{address: "temporal://127.0.0.1", bad: "want HOST:PORT"},
		{address: "temporal://127.0.0.1:http", bad: "HOST:PORT"},
		{address: "temporal://h:7233/a/b", bad: "has a slash"},
		{address: "sqlite:app.db?check-names=maybe", bad: "not a boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			got, err := parse(tt.address)
			if tt.bad != "" {
				require.ErrorIs(t, err, ErrAddress)
				assert.Contains(t, err.Error(), tt.bad)
				assert.Contains(t, err.Error(), "sqlite:PATH", "the error names the accepted forms")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestOpenRunsAnOrchestration(t *testing.T) {
	ctx := context.Background()
	eng, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "app.db"), Options{})
	require.NoError(t, err)
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(bench.FanOut)
	w.RegisterActivities(bench.Activities()...)
	require.NoError(t, w.Start(ctx))
	id, err := client.Start(ctx, eng, bench.FanOut, 10)
	require.NoError(t, err)
	got, err := client.Result(ctx, eng, bench.FanOut, id)
	require.NoError(t, err)
	assert.Equal(t, 45, got)
	require.NoError(t, eng.Close(), "Close stops the worker and releases the engine")

	_, err = Open(ctx, "mysql://x", Options{})
	assert.ErrorIs(t, err, ErrAddress)
}
