package soak

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/worker"
)

// tiny are sizes for the verifier's own tests (two generations of
// continue-as-new reuse no step number with attempt 1).
var tiny = Sizes{FanOut: 5, Sequence: 3, Events: 3, Children: 2, ChildSize: 2, Generations: 2,
	Timers: 2, Retries: 3, SuspendSteps: 2}

// cleanSoak plays one round of every workload in-process (worker, loader
// and execution log in this process, no kills) into a soak directory.
func cleanSoak(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	c := config{Seed: 7, Sizes: tiny, Loaders: 1, InFlight: 9, Poll: 10 * time.Millisecond}
	require.NoError(t, c.write(dir))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := embedded.Open(ctx, filepath.Join(dir, dbFile), embedded.Options{PollInterval: c.Poll, Logger: quiet})
	require.NoError(t, err)
	el, err := openExecLog(filepath.Join(dir, execFile))
	require.NoError(t, err)
	w := worker.New(eng, worker.Options{Logger: quiet})
	w.RegisterOrchestrators(Orchestrators()...)
	w.RegisterActivities(Activities()...)
	require.NoError(t, w.Start(ctx))
	out, err := os.Create(filepath.Join(dir, loaderLog(0)))
	require.NoError(t, err)
	l := &loader{c: eng, out: out}
	p := newPlanner(c, 0)
	var wg sync.WaitGroup
	for range topKinds {
		o, id, s := p.next()
		require.True(t, l.start(ctx, o, id, s))
		wg.Go(func() { l.script(ctx, o, id, s) })
	}
	wg.Wait()
	require.NoError(t, w.Stop(ctx))
	require.NoError(t, eng.Close())
	require.NoError(t, el.close())
	require.NoError(t, out.Close())
	return dir
}

func appendLine(t *testing.T, path string, v any) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	defer f.Close()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	_, err = f.Write(append(data, '\n'))
	require.NoError(t, err)
}

// rewrite keeps the lines of a log that keep says to.
func rewrite(t *testing.T, path string, keep func(line string) bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var kept []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if line != "" && keep(line) {
			kept = append(kept, line)
		}
	}
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(kept, "")), 0o644))
}

func failuresOf(rep *Report) string {
	var b strings.Builder
	for _, f := range rep.Failures {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

// The verifier passes a clean run of every workload, and catches each
// kind of damage done to its logs afterwards.
func TestVerify(t *testing.T) {
	ctx := context.Background()
	dir := cleanSoak(t)
	rep, err := Verify(ctx, dir)
	require.NoError(t, err)
	for _, f := range rep.Failures {
		t.Errorf("a clean run fails: %s", f)
	}
	assert.Equal(t, rep.EventsRaised, rep.EventsReceived)
	assert.Equal(t, tiny.Events+tiny.Generations+1, rep.EventsRaised)
	assert.Equal(t, rep.ActivitiesScheduled, rep.ActivitiesCompleted+rep.Abandoned)
	assert.Len(t, rep.Instances, len(topKinds)+3, "every kind, and the children of parent and terminate: %v", rep.Instances)

	// Each case damages a copy of the clean soak as a bug would.
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
		count  func(r *Report) int
	}{
		{"an event raised and never received", func(t *testing.T, dir string) {
			appendLine(t, filepath.Join(dir, loaderLog(0)), record{Op: opRaise, ID: "waiter-l0-" + idOf(t, dir, Waiter.Name()), Event: eventWaiter, Seq: 3})
		}, "(soak.waiter): output", func(r *Report) int { return r.WrongOutputs }},
		{"a start that left no instance", func(t *testing.T, dir string) {
			appendLine(t, filepath.Join(dir, loaderLog(0)), record{Op: opStart, ID: "ghost", Kind: FanOut.Name()})
		}, "ghost (soak.fanout): started by a loader", func(r *Report) int { return r.LostStarts }},
		{"a key run with another input", func(t *testing.T, dir string) {
			id := "sequence-l0-" + idOf(t, dir, Sequence.Name())
			execs, _, err := readExecutions(filepath.Join(dir, execFile))
			require.NoError(t, err)
			for _, e := range execs {
				if e.Instance == id && e.Task == 1 && e.Attempt == 1 {
					e.Digest = "0123456789abcdef" // the same key, another input
					appendLine(t, filepath.Join(dir, execFile), e)
					return
				}
			}
			t.Fatal("no attempt 1 of task 1")
		}, "idempotency keys reused with another input: 1 keys", func(r *Report) int { return r.KeyCollisions }},
		{"a result without a run", func(t *testing.T, dir string) {
			rewrite(t, filepath.Join(dir, execFile), func(line string) bool { return !strings.Contains(line, `"instance":"fanout-l0-`) })
		}, "no run of that attempt on that input", func(r *Report) int { return r.CompletionsWithoutRun }},
		{"a client error", func(t *testing.T, dir string) {
			appendLine(t, filepath.Join(dir, loaderLog(0)), record{Op: opError, Of: opRaise, ID: "x", Err: "database is locked (5) (SQLITE_BUSY)"})
		}, "client error: loader 0: raise x: database is locked", func(r *Report) int { return r.ClientErrors }},
		{"a retry attempt that went back", func(t *testing.T, dir string) {
			id := "retry-l0-" + idOf(t, dir, Retry.Name())
			execs, _, err := readExecutions(filepath.Join(dir, execFile))
			require.NoError(t, err)
			for _, e := range execs {
				if e.Instance == id && e.Attempt == 1 && e.Task == 2 { // task 2 fails once: attempt 2 ran after it
					appendLine(t, filepath.Join(dir, execFile), e)
					return
				}
			}
			t.Fatal("no attempt 1 of task 2")
		}, "attempts went back", func(r *Report) int { return r.Reexecutions }},
		{"a completion recorded twice", func(t *testing.T, dir string) {
			execSQL(t, dir, `INSERT INTO history (instance_id, idx, event)
				SELECT instance_id, (SELECT max(idx) + 1 FROM history WHERE instance_id = h.instance_id), json_set(event, '$.index', (SELECT max(idx) + 1 FROM history WHERE instance_id = h.instance_id))
				FROM history h WHERE instance_id LIKE 'fanout-l0-%' AND json_extract(event, '$.type') = 'ActivityCompleted' LIMIT 1`)
		}, "completed 2 times", func(r *Report) int { return r.Doubled }},
		{"a history with a gap", func(t *testing.T, dir string) {
			execSQL(t, dir, `DELETE FROM history WHERE instance_id LIKE 'sequence-l0-%' AND idx = 2`)
		}, "event 2 has index 3: a gap", func(r *Report) int { return r.HistoryErrors }},
		{"an activity never completed", func(t *testing.T, dir string) {
			execSQL(t, dir, `DELETE FROM history WHERE instance_id LIKE 'fanout-l0-%' AND json_extract(event, '$.type') = 'ActivityCompleted' AND json_extract(event, '$.taskId') = 5`)
		}, "scheduled, never completed", func(r *Report) int { return r.Lost }},
		{"a step while suspended", func(t *testing.T, dir string) {
			path := filepath.Join(dir, loaderLog(0))
			rs, err := readRecords(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, nil, 0o644))
			for _, r := range rs {
				if r.Op == opSuspend { // as if it had been suspended before it started
					r.At = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
				}
				appendLine(t, path, r)
			}
		}, "a step ran while suspended", func(r *Report) int { return r.SuspendIgnored }},
		{"an instance left running", func(t *testing.T, dir string) {
			execSQL(t, dir, `UPDATE instances SET status = 'Running' WHERE id LIKE 'timers-l0-%'`)
		}, "stuck: Running", func(r *Report) int { return r.Stuck }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			require.NoError(t, os.CopyFS(d, os.DirFS(dir)))
			tc.damage(t, d)
			rep, err := Verify(ctx, d)
			require.NoError(t, err)
			assert.False(t, rep.OK())
			assert.Contains(t, failuresOf(rep), tc.want)
			assert.Positive(t, tc.count(rep))
		})
	}
}

// execSQL damages a soak's database directly.
func execSQL(t *testing.T, dir, q string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, dbFile))
	require.NoError(t, err)
	defer db.Close()
	res, err := db.Exec(q)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.Positive(t, n, "the damage applies")
}

// idOf returns the loader sequence number of the instance of kind.
func idOf(t *testing.T, dir, kind string) string {
	rs, err := readRecords(filepath.Join(dir, loaderLog(0)))
	require.NoError(t, err)
	for _, r := range rs {
		if r.Op == opStart && r.Kind == kind {
			return r.ID[strings.LastIndexByte(r.ID, '-')+1:]
		}
	}
	t.Fatalf("no %s started", kind)
	return ""
}

// The model of every workload agrees with a plain fold (a spot check of
// expect against the orchestrators' definitions, beyond the clean run).
func TestExpect(t *testing.T) {
	s := Spec{Seed: 3, N: 4}
	assert.Equal(t, mix(3, mix(3, mix(3, mix(3, 0, 0), 1), 2), 3), expect(Sequence.Name(), s, nil).result.Sum)
	assert.Equal(t, []int{0, 1, 2, 3}, expect(ContinueAsNew.Name(), s, []int{0, 1, 2, 3}).result.Events)
	assert.Equal(t, "Terminated", string(expect(Terminate.Name(), s, nil).status))
}
