package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/cli"
	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
	"github.com/cloudbutton/cloudbutton/samples/wordcount/wordcount"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// run runs the sample's CLI in-process.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), registrations(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestWordCountCLI runs the commands of the package doc: a worker of the
// word count, a word count started and awaited from the CLI, its history
// exported and replayed against the code.
func TestWordCountCLI(t *testing.T) {
	corpus := filepath.Join(wordcount.DefaultCorpus(context.Background()), "strings")
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("no Go source tree: %v", err)
	}
	t.Setenv("TMPDIR", t.TempDir()) // the job's scratch directory
	db := filepath.Join(t.TempDir(), "wc.db")

	ctx, stop := context.WithCancel(context.Background())
	var workerLog syncbuf.Buffer
	workerDone := make(chan int)
	go func() {
		workerDone <- cli.Run(ctx, registrations(), []string{"--db", db, "worker"}, &bytes.Buffer{}, &workerLog)
	}()
	t.Cleanup(func() {
		stop()
		assert.Equal(t, cli.ExitOK, <-workerDone, workerLog.String())
	})
	require.Eventually(t, func() bool { return strings.Contains(workerLog.String(), "worker running") }, 10*time.Second, 10*time.Millisecond,
		workerLog.String())
	assert.Regexp(t, `orchestrators: [^;]*\bwordcount\b`, workerLog.String(), "the worker hosts the word count")

	job, err := json.Marshal(wordcount.Job{Input: corpus, TopN: 3})
	require.NoError(t, err)
	code, out, errOut := run(t, "--db", db, "start", "wordcount", string(job), "--id", "wc-1", "--wait", "--timeout", "2m")
	require.Equal(t, cli.ExitOK, code, errOut)
	lines := strings.SplitN(out, "\n", 2)
	require.Equal(t, "wc-1", lines[0])
	var res wordcount.Result
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &res), out)
	assert.Len(t, res.Top, 3)
	assert.Positive(t, res.Total)

	code, out, errOut = run(t, "--db", db, "history", "wc-1", "--json")
	require.Equal(t, cli.ExitOK, code, errOut)
	file := filepath.Join(t.TempDir(), "wc-1.json")
	require.NoError(t, os.WriteFile(file, []byte(out), 0o644))
	code, out, errOut = run(t, "replay", file)
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.Contains(t, out, "replays against the current code")
}
