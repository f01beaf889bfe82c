package temporal_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/internal/temporaltest"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var update = flag.Bool("update", false, "record the golden Temporal histories in testdata/ again (needs the temporal CLI)")

var greet = activity.New("greet", func(ctx context.Context, name string) (string, error) {
	return "hello " + name, nil
})

var shout = activity.New("shout", func(ctx context.Context, s string) (string, error) {
	return strings.ToUpper(s), nil
})

// greeter is the orchestrator whose history is recorded.
var greeter = orchestration.New("greeter", func(ctx orchestration.Context, name string) (string, error) {
	s, err := orchestration.Call(ctx, greet, name).Await(ctx)
	if err != nil {
		return "", err
	}
	if err := orchestration.Sleep(ctx, 10*time.Millisecond); err != nil {
		return "", err
	}
	return orchestration.Call(ctx, shout, s).Await(ctx)
})

// greeterChanged calls its activities in another order: replay must fail.
var greeterChanged = orchestration.New("greeter", func(ctx orchestration.Context, name string) (string, error) {
	s, err := orchestration.Call(ctx, shout, name).Await(ctx)
	if err != nil {
		return "", err
	}
	return orchestration.Call(ctx, greet, s).Await(ctx)
})

// greeterVersioned guards a change with GetVersion: old histories take
// the DefaultVersion branch, so replay still succeeds.
var greeterVersioned = orchestration.New("greeter", func(ctx orchestration.Context, name string) (string, error) {
	if orchestration.GetVersion(ctx, "extra-step", orchestration.DefaultVersion, 1) == 1 {
		if _, err := orchestration.Call(ctx, greet, "again").Await(ctx); err != nil {
			return "", err
		}
	}
	s, err := orchestration.Call(ctx, greet, name).Await(ctx)
	if err != nil {
		return "", err
	}
	if err := orchestration.Sleep(ctx, 10*time.Millisecond); err != nil {
		return "", err
	}
	return orchestration.Call(ctx, shout, s).Await(ctx)
})

// greeterDroppedOld no longer supports instances from before the change.
var greeterDroppedOld = orchestration.New("greeter", func(ctx orchestration.Context, name string) (string, error) {
	orchestration.GetVersion(ctx, "extra-step", 1, 1)
	return orchestration.Call(ctx, greet, name).Await(ctx)
})

const goldenGreeter = "testdata/greeter.history.json"

// recordGreeter runs greeter on the dev server and exports its history.
func recordGreeter(t *testing.T) []byte {
	eng := openEngine(t, temporal.Options{})
	startWorker(t, eng, func(w *worker.Worker) {
		w.RegisterOrchestrators(greeter)
		w.RegisterActivities(greet, shout)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := client.Start(ctx, eng, greeter, "world")
	require.NoError(t, err)
	out, err := client.Result(ctx, eng, greeter, id)
	require.NoError(t, err)
	require.Equal(t, "HELLO WORLD", out)
	var buf bytes.Buffer
	require.NoError(t, eng.ExportHistory(ctx, id, &buf))
	return buf.Bytes()
}

func TestReplayRecordedHistory(t *testing.T) {
	data := recordGreeter(t)
	path := filepath.Join(t.TempDir(), "h.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(goldenGreeter, data, 0o644))
	}
	require.NoError(t, temporal.ReplayHistoryFile(path, temporal.ReplayOptions{}, greeter))
	err := temporal.ReplayHistoryFile(path, temporal.ReplayOptions{}, greeterChanged)
	var re *temporal.ReplayError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, err.Error(), "nondeterminis")
}

func TestReplayGolden(t *testing.T) {
	cases := []struct {
		name    string
		def     orchestration.Definition
		diverge bool
	}{
		{"same code", greeter, false},
		{"activities reordered", greeterChanged, true},
		{"change guarded by GetVersion", greeterVersioned, false},
		{"old version no longer supported", greeterDroppedOld, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := temporal.ReplayHistoryFile(goldenGreeter, temporal.ReplayOptions{}, c.def)
			if !c.diverge {
				require.NoError(t, err)
				return
			}
			var re *temporal.ReplayError
			require.True(t, errors.As(err, &re), "want a *ReplayError, got %v", err)
			assert.Contains(t, re.Error(), goldenGreeter)
		})
	}
}

func TestReplayBadInput(t *testing.T) {
	err := temporal.ReplayHistoryFile(filepath.Join(t.TempDir(), "missing.json"), temporal.ReplayOptions{}, greeter)
	assert.ErrorIs(t, err, os.ErrNotExist)
	err = temporal.ReplayHistoryJSON(strings.NewReader("{not json"), temporal.ReplayOptions{}, greeter)
	assert.ErrorContains(t, err, "read JSON history")
	err = temporal.ReplayHistoryFile(goldenGreeter, temporal.ReplayOptions{})
	assert.ErrorContains(t, err, "no orchestrators given")
}

// TestReplayCLIExport replays a history exported by the Temporal CLI
// (`temporal workflow show --output json`), the format users attach to
// bug reports.
func TestReplayCLIExport(t *testing.T) {
	srv := temporaltest.Require(t)
	cli, err := temporaltest.FindCLI()
	require.NoError(t, err)
	eng := openEngine(t, temporal.Options{})
	startWorker(t, eng, func(w *worker.Worker) {
		w.RegisterOrchestrators(greeter)
		w.RegisterActivities(greet, shout)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := client.Start(ctx, eng, greeter, "cli")
	require.NoError(t, err)
	_, err = client.Result(ctx, eng, greeter, id)
	require.NoError(t, err)

	cmd := exec.CommandContext(ctx, cli, "workflow", "show", "--workflow-id", id,
		"--address", srv.HostPort, "--namespace", srv.Namespace, "--output", "json")
	out, err := cmd.Output()
	require.NoError(t, err, "temporal workflow show")
	require.NoError(t, temporal.ReplayHistoryJSON(bytes.NewReader(out), temporal.ReplayOptions{}, greeter))
	assert.Error(t, temporal.ReplayHistoryJSON(bytes.NewReader(out), temporal.ReplayOptions{}, greeterChanged))
}

// lineCounter counts log lines that mention "orchestrator says".
type lineCounter struct {
	mu sync.Mutex
	n  int
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += strings.Count(string(p), "orchestrator says")
	return len(p), nil
}

func (c *lineCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

var talker = orchestration.New("talker", func(ctx orchestration.Context, _ struct{}) (string, error) {
	ctx.Logger().Info("orchestrator says hello")
	return orchestration.Call(ctx, greet, "log").Await(ctx)
})

// TestLoggerIsReplaySafe: the orchestrator's logger writes once live and
// stays silent when the same history is replayed.
func TestLoggerIsReplaySafe(t *testing.T) {
	live := &lineCounter{}
	eng := openEngine(t, temporal.Options{})
	w := worker.New(eng, worker.Options{Logger: slog.New(slog.NewTextHandler(live, nil))})
	w.RegisterOrchestrators(talker)
	w.RegisterActivities(greet)
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() { _ = w.Stop(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := client.Start(ctx, eng, talker, struct{}{})
	require.NoError(t, err)
	_, err = client.Result(ctx, eng, talker, id)
	require.NoError(t, err)
	assert.Equal(t, 1, live.count(), "logged once live")

	h, err := eng.History(ctx, id)
	require.NoError(t, err)
	replayed := &lineCounter{}
	require.NoError(t, temporal.ReplayHistory(h, temporal.ReplayOptions{Logger: slog.New(slog.NewTextHandler(replayed, nil))}, talker))
	assert.Equal(t, 0, replayed.count(), "silent on replay")
}
