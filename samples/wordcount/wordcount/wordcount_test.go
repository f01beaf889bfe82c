package wordcount_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/analytics"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
	"github.com/cloudbutton/cloudbutton/samples/wordcount/wordcount"
	"github.com/cloudbutton/cloudbutton/storage"
)

func TestCount(t *testing.T) {
	tests := []struct {
		in   string
		want wordcount.Counts
	}{
		{"", wordcount.Counts{}},
		{"hello, world! hello", wordcount.Counts{"hello": 2, "world": 1}},
		{"snake_case x1 42 a-b", wordcount.Counts{"snake_case": 1, "x1": 1, "42": 1, "a": 1, "b": 1}},
		{"héllo wörld ñ", wordcount.Counts{"héllo": 1, "wörld": 1, "ñ": 1}},
		{"日本語 テスト", wordcount.Counts{"日本語": 1, "テスト": 1}},
		{"line1\r\nline2\n", wordcount.Counts{"line1": 1, "line2": 1}},
		{"ab\xffcd \xc3 ef\xc3", wordcount.Counts{"ab": 1, "cd": 1, "ef": 1}}, // invalid UTF-8 separates
		{"tail", wordcount.Counts{"tail": 1}},
	}
	for _, tt := range tests {
		c := wordcount.Counts{}
		wordcount.Count(c, []byte(tt.in))
		assert.Equal(t, tt.want, c, "%q", tt.in)
	}
}

func TestSummarize(t *testing.T) {
	a := wordcount.Counts{"x": 3, "y": 1, "z": 3}
	b := wordcount.Counts{"w": 5}
	s := wordcount.Summarize(3, a, b)
	assert.Equal(t, int64(12), s.Total)
	assert.Equal(t, 4, s.Distinct)
	assert.Equal(t, []wordcount.WordFreq{{"w", 5}, {"x", 3}, {"z", 3}}, s.Top)
	// Order of parts does not matter; any difference in counts does.
	assert.Equal(t, s, wordcount.Summarize(3, b, a))
	assert.Equal(t, s, wordcount.Summarize(3, wordcount.Counts{"x": 3, "y": 1, "z": 3, "w": 5}))
	assert.NotEqual(t, s.Digest, wordcount.Summarize(3, wordcount.Counts{"x": 3, "y": 2, "z": 2, "w": 5}).Digest)
}

// writeCorpus writes a random corpus and returns its directory.
func writeCorpus(t *testing.T, files int) string {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	vocab := []string{"go", "func", "the", "übung", "日本", "x_1", "return", "err", "nil", "a", "b"}
	for i := range files {
		var b strings.Builder
		for range r.IntN(4000) {
			b.WriteString(vocab[r.IntN(len(vocab))])
			switch r.IntN(8) {
			case 0:
				b.WriteString("\n")
			case 1:
				b.WriteString("\xff") // invalid UTF-8
			case 2:
				b.WriteString(", ")
			default:
				b.WriteString(" ")
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%3), fmt.Sprintf("f%02d.txt", i))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty"), nil, 0o644))
	return dir
}

func plainSummary(t *testing.T, dir, prefix string) wordcount.Summary {
	t.Helper()
	st, err := storage.Open(context.Background(), dir)
	require.NoError(t, err)
	c, err := wordcount.CountPlain(context.Background(), st, prefix)
	require.NoError(t, err)
	return wordcount.Summarize(20, c)
}

func newEnv(t *testing.T) *orchestrationtest.Env {
	env := orchestrationtest.New(t)
	env.RegisterActivities(wordcount.Activities()...)
	env.RegisterOrchestrators(wordcount.Orchestrators()...)
	return env
}

func TestWordCountEqualsPlainCount(t *testing.T) {
	dir := writeCorpus(t, 25)
	plain := plainSummary(t, dir, "")
	require.Positive(t, plain.Total)
	tests := []struct {
		name string
		job  wordcount.Job
	}{
		{"defaults", wordcount.Job{Input: dir}},
		{"small chunks", wordcount.Job{Input: dir, ChunkSize: 333, BatchSize: 2000, Partitions: 5, FanIn: 3}},
		{"bounded", wordcount.Job{Input: dir, ChunkSize: 1000, BatchSize: 1, MaxInFlight: 4, Partitions: 2, FanIn: 2}},
		{"sub-orchestrations", wordcount.Job{Input: dir, ChunkSize: 700, BatchSize: 3000, MaxBatchesPerOrchestration: 4, Partitions: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			res, err := orchestrationtest.Run(env, wordcount.WordCount, tt.job)
			require.NoError(t, err)
			require.NoError(t, wordcount.Verify(res, plain))
			assert.Equal(t, plain, res.Summary)
			st, err := orchestrationtest.CustomStatus[wordcount.Status](env)
			require.NoError(t, err)
			assert.Equal(t, wordcount.Status{Done: res.Batches, Total: res.Batches}, st)
			assert.GreaterOrEqual(t, res.Chunks, 25)
		})
	}
	t.Run("prefix", func(t *testing.T) {
		env := newEnv(t)
		res, err := orchestrationtest.Run(env, wordcount.WordCount, wordcount.Job{Input: dir, Prefix: "d1/", ChunkSize: 500})
		require.NoError(t, err)
		assert.Equal(t, plainSummary(t, dir, "d1/"), res.Summary)
		assert.NotEqual(t, plain.Total, res.Total)
	})
}

// TestWordCountGoSource counts one real package directory of the Go tree.
func TestWordCountGoSource(t *testing.T) {
	dir := filepath.Join(wordcount.DefaultCorpus(context.Background()), "strings")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no Go source tree: %v", err)
	}
	env := newEnv(t)
	res, err := orchestrationtest.Run(env, wordcount.WordCount, wordcount.Job{Input: dir, ChunkSize: 16 << 10, BatchSize: 64 << 10})
	require.NoError(t, err)
	plain := plainSummary(t, dir, "")
	require.NoError(t, wordcount.Verify(res, plain))
	assert.Greater(t, res.Chunks, res.Batches)
}

func TestWordCountBadInput(t *testing.T) {
	dir := writeCorpus(t, 4)
	tests := []struct {
		name    string
		job     wordcount.Job
		wantErr string
	}{
		{"no input", wordcount.Job{}, "job without an input"},
		{"missing directory", wordcount.Job{Input: filepath.Join(dir, "nope")}, filepath.Join(dir, "nope") + `" does not exist`},
		{"empty corpus", wordcount.Job{Input: dir, Prefix: "empty"}, `no data under prefix "empty"`},
		{"missing prefix", wordcount.Job{Input: dir, Prefix: "zzz/"}, `no data under prefix "zzz/"`},
		{"bad URL", wordcount.Job{Input: "gs://bucket"}, "unsupported scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			_, err := orchestrationtest.Run(env, wordcount.WordCount, tt.job)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			for _, e := range env.History() {
				assert.LessOrEqual(t, e.Attempt, 1, "bad input is not retried")
			}
		})
	}
}

// TestWordCountFailingChunk: a batch that fails on every attempt is
// reported (tolerated) or fails the job (not tolerated), after its
// retries; never a hang.
func TestWordCountFailingChunk(t *testing.T) {
	dir := writeCorpus(t, 6)
	job := wordcount.Job{Input: dir, ChunkSize: 4000, BatchSize: 4000, Attempts: 3}
	mock := func(env *orchestrationtest.Env) *orchestrationtest.Calls[wordcount.Batch] {
		return orchestrationtest.MockActivity(env, wordcount.CountWords, func(ctx context.Context, b wordcount.Batch) ([]wordcount.Part, error) {
			for _, c := range b.Chunks {
				if c.Key == "d1/f01.txt" {
					return nil, errors.New("disk on fire")
				}
			}
			return wordcount.CountWords.Run(ctx, b)
		})
	}
	t.Run("tolerated", func(t *testing.T) {
		env := newEnv(t)
		calls := mock(env)
		j := job
		j.TolerateFailures = 5
		res, err := orchestrationtest.Run(env, wordcount.WordCount, j)
		require.NoError(t, err)
		require.NotEmpty(t, res.Failed)
		assert.Contains(t, res.Failed[0].Message, "disk on fire")
		assert.Equal(t, res.Batches+2*len(res.Failed), calls.Count(), "each failing batch had 3 attempts")
		assert.ErrorContains(t, wordcount.Verify(res, plainSummary(t, dir, "")), "batches failed")
	})
	t.Run("not tolerated", func(t *testing.T) {
		env := newEnv(t)
		mock(env)
		_, err := orchestrationtest.Run(env, wordcount.WordCount, job)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "disk on fire")
		assert.Contains(t, err.Error(), "over the 0 tolerated")
	})
}

func TestCountWordsMissingObject(t *testing.T) {
	dir := t.TempDir()
	_, err := wordcount.CountWords.Run(context.Background(), wordcount.Batch{
		Partitions: 1, Scratch: t.TempDir(), Chunks: []analytics.Chunk{{Store: dir, Key: "gone.txt", Length: 10}}})
	var ae *activity.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, analytics.ErrorTypeBadInput, ae.Type)
	assert.True(t, ae.NonRetryable)
	assert.Contains(t, err.Error(), "gone.txt")
}

// TestScratch: intermediate counts go to the scratch store given, or to a
// temporary directory that is removed at the end (also when the job
// fails).
func TestScratch(t *testing.T) {
	dir := writeCorpus(t, 5)
	plain := plainSummary(t, dir, "")
	t.Run("given", func(t *testing.T) {
		scratch := t.TempDir()
		env := newEnv(t)
		res, err := orchestrationtest.Run(env, wordcount.WordCount, wordcount.Job{Input: dir, Scratch: scratch, ChunkSize: 2000, BatchSize: 4000, Partitions: 3})
		require.NoError(t, err)
		require.NoError(t, wordcount.Verify(res, plain))
		st, err := storage.Open(context.Background(), scratch)
		require.NoError(t, err)
		objs, err := st.List(context.Background(), "")
		require.NoError(t, err)
		assert.NotEmpty(t, objs, "a given scratch store keeps the partial counts")
	})
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("temporary, failing %v", fail), func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			env := newEnv(t)
			if fail {
				orchestrationtest.MockActivity(env, wordcount.MergeCounts, func(ctx context.Context, ps []wordcount.Part) (wordcount.Part, error) {
					return wordcount.Part{}, activity.NewNonRetryableError("Broken", "merge broken")
				})
			}
			res, err := orchestrationtest.Run(env, wordcount.WordCount, wordcount.Job{Input: dir, ChunkSize: 2000, BatchSize: 4000, Partitions: 2, FanIn: 2})
			if fail {
				require.ErrorContains(t, err, "merge broken")
			} else {
				require.NoError(t, err)
				require.NoError(t, wordcount.Verify(res, plain))
			}
			left, err := os.ReadDir(tmp)
			require.NoError(t, err)
			assert.Empty(t, left, "the temporary scratch directory is removed")
		})
	}
}

func TestCorruptPart(t *testing.T) {
	scratch := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(scratch, "bad.txt"), []byte("word notanumber\n"), 0o644))
	_, err := wordcount.MergeCounts.Run(context.Background(), []wordcount.Part{{Store: scratch, Key: "bad.txt", Words: 1}})
	var ae *activity.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "CorruptPart", ae.Type)
	assert.Contains(t, err.Error(), "bad.txt")
}
