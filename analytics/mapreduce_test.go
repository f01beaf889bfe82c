package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/analytics"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

func labels(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%d,", i)
	}
	return b.String()
}

func countActivity(h []orchestrationtest.Event, name string) int {
	n := 0
	for _, a := range orchestrationtest.ScheduledActivities(h) {
		if a == name {
			n++
		}
	}
	return n
}

func TestMapReduceTree(t *testing.T) {
	tests := []struct {
		n, fanIn    int
		wantReduces int
	}{
		{n: 1, fanIn: 3, wantReduces: 0},
		{n: 2, fanIn: 3, wantReduces: 1},
		{n: 10, fanIn: 3, wantReduces: 5}, // 10 -> 4 (3 calls) -> 2 (1 call) -> 1 (1 call)
		{n: 9, fanIn: 3, wantReduces: 4},  // 9 -> 3 -> 1
		{n: 40, fanIn: 16, wantReduces: 4},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d,k=%d", tt.n, tt.fanIn), func(t *testing.T) {
			env := orchestrationtest.New(t)
			env.RegisterActivities(label, concat)
			o := orchestration.New("mr", func(ctx orchestration.Context, n int) (analytics.ReduceResult[string], error) {
				return analytics.MapReduce(ctx, label, concat, items(n), analytics.WithFanIn(tt.fanIn))
			})
			res, err := orchestrationtest.Run(env, o, tt.n)
			require.NoError(t, err)
			assert.Equal(t, labels(tt.n), res.Value, "reduction keeps input order")
			assert.Equal(t, tt.wantReduces, countActivity(env.History(), "concat"))
		})
	}
}

func TestMapReduceToleratedFailures(t *testing.T) {
	env := orchestrationtest.New(t)
	orchestrationtest.MockActivity(env, square, failing([]int{2, 5}))
	env.RegisterActivities(sum)
	o := orchestration.New("mr", func(ctx orchestration.Context, n int) (analytics.ReduceResult[int], error) {
		return analytics.MapReduce(ctx, square, sum, items(n), analytics.TolerateFailures(2), analytics.WithFanIn(2))
	})
	res, err := orchestrationtest.Run(env, o, 8)
	require.NoError(t, err)
	assert.Equal(t, 0+1+9+16+36+49, res.Value)
	require.Len(t, res.Failed, 2)
	assert.Equal(t, 2, res.Failed[0].Index)
	assert.Equal(t, 5, res.Failed[1].Index)
}

func TestMapReduceReduceFailure(t *testing.T) {
	env := orchestrationtest.New(t)
	env.RegisterActivities(square)
	calls := orchestrationtest.MockActivity(env, sum, func(context.Context, []int) (int, error) {
		return 0, activity.NewError("Overflow", "too big")
	})
	type out struct {
		IsReduce bool
		Msg      string
	}
	o := orchestration.New("mr", func(ctx orchestration.Context, n int) (out, error) {
		_, err := analytics.MapReduce(ctx, square, sum, items(n), analytics.WithRetry(orchestration.RetryPolicy{MaxAttempts: 2}))
		return out{IsReduce: errors.Is(err, analytics.ErrReduce), Msg: fmt.Sprint(err)}, nil
	})
	res, err := orchestrationtest.Run(env, o, 5)
	require.NoError(t, err)
	assert.True(t, res.IsReduce)
	assert.Contains(t, res.Msg, `reduce activity "sum" failed (partition 0, tree level 0)`)
	assert.Contains(t, res.Msg, "Overflow: too big")
	assert.Equal(t, 2, calls.Count(), "the reduce was retried per policy, then reported")
}

// wordsIn counts words of a line, partitioned by key.
var (
	countKeyed = activity.New("count-keyed", func(_ context.Context, line string) ([]map[string]int, error) {
		out := make([]map[string]int, 3)
		for i := range out {
			out[i] = map[string]int{}
		}
		for _, w := range strings.Fields(line) {
			out[analytics.KeyPartition(w, 3)][w]++
		}
		return out, nil
	})
	countWrongParts = activity.New("count-keyed", func(_ context.Context, line string) ([]map[string]int, error) {
		if strings.Contains(line, "bad") {
			return make([]map[string]int, 2), nil
		}
		return countKeyed.Run(context.Background(), line)
	})
	mergeCounts = activity.New("merge-counts", func(_ context.Context, ms []map[string]int) (map[string]int, error) {
		out := map[string]int{}
		for _, m := range ms {
			for k, v := range m {
				out[k] += v
			}
		}
		return out, nil
	})
)

var corpus = []string{"a b c", "b c d e", "a a a", "f", "", "e d c b a", "g h i j k l m n", "a"}

func wantCounts(lines []string) map[string]int {
	want := map[string]int{}
	for _, l := range lines {
		for _, w := range strings.Fields(l) {
			want[w]++
		}
	}
	return want
}

func TestMapReduceByKey(t *testing.T) {
	for _, opts := range [][]analytics.Option{
		{analytics.WithFanIn(2)},
		{analytics.WithFanIn(3), analytics.MaxItemsPerOrchestration(2)},
		{analytics.WithFanIn(2), analytics.MaxItemsPerOrchestration(3), analytics.WithMaxInFlight(3)},
	} {
		env := orchestrationtest.New(t)
		env.RegisterActivities(countKeyed, mergeCounts)
		env.RegisterOrchestrators(analytics.MapReduceByKeyOrchestrator(countKeyed, mergeCounts))
		o := orchestration.New("wc", func(ctx orchestration.Context, lines []string) (analytics.KeyedResult[map[string]int], error) {
			return analytics.MapReduceByKey(ctx, countKeyed, mergeCounts, lines, 3, opts...)
		})
		res, err := orchestrationtest.Run(env, o, corpus)
		require.NoError(t, err)
		require.Len(t, res.Values, 3)
		got := map[string]int{}
		for k, part := range res.Values {
			for w, c := range part {
				assert.Equal(t, k, analytics.KeyPartition(w, 3), "word %q in the wrong partition", w)
				got[w] += c
			}
		}
		assert.Equal(t, wantCounts(corpus), got)
	}
}

func TestMapReduceByKeyBadOutput(t *testing.T) {
	env := orchestrationtest.New(t)
	env.RegisterActivities(countWrongParts, mergeCounts)
	o := orchestration.New("wc", func(ctx orchestration.Context, lines []string) (analytics.KeyedResult[map[string]int], error) {
		return analytics.MapReduceByKey(ctx, countWrongParts, mergeCounts, lines, 3, analytics.TolerateFailures(1))
	})
	lines := []string{"x y", "bad line", "y z"}
	res, err := orchestrationtest.Run(env, o, lines)
	require.NoError(t, err)
	require.Len(t, res.Failed, 1)
	assert.Equal(t, analytics.ItemFailure{Index: 1, Type: "BadOutput", Message: `map activity "count-keyed" returned 2 partitions, want 3`}, res.Failed[0])
	got := map[string]int{}
	for _, part := range res.Values {
		maps.Copy(got, part)
	}
	assert.Equal(t, map[string]int{"x": 1, "y": 2, "z": 1}, got)
}

// TestMapReduceSplitMatchesFlat: with sub-orchestrations, the result and
// the reported failures are the same as without.
func TestMapReduceSplitMatchesFlat(t *testing.T) {
	run := func(opts ...analytics.Option) (analytics.ReduceResult[string], *orchestrationtest.Env) {
		env := orchestrationtest.New(t)
		orchestrationtest.MockActivity(env, label, func(_ context.Context, n int) (string, error) {
			if n%10 == 3 {
				return "", errors.New("unlucky")
			}
			return fmt.Sprintf("%d,", n), nil
		})
		env.RegisterActivities(concat)
		env.RegisterOrchestrators(analytics.MapReduceOrchestrator(label, concat))
		o := orchestration.New("mr", func(ctx orchestration.Context, n int) (analytics.ReduceResult[string], error) {
			return analytics.MapReduce(ctx, label, concat, items(n), append(opts, analytics.TolerateFailureRate(0.1), analytics.WithFanIn(4))...)
		})
		res, err := orchestrationtest.Run(env, o, 100)
		require.NoError(t, err)
		return res, env
	}
	flat, _ := run()
	split, env := run(analytics.MaxItemsPerOrchestration(6))
	assert.Equal(t, flat, split)
	assert.Len(t, flat.Failed, 10)
	assert.NotContains(t, flat.Value, "13,")
	assert.Contains(t, flat.Value, "99,")
	tree := map[string][]orchestrationtest.Event{}
	instanceTree(env, "test-instance", tree)
	for id, h := range tree {
		assert.LessOrEqual(t, countActivity(h, "label"), 6, "instance %s", id)
	}
}

func TestMapReduceSplitNotRegistered(t *testing.T) {
	env := orchestrationtest.New(t)
	env.RegisterActivities(label, concat)
	o := orchestration.New("mr", func(ctx orchestration.Context, n int) (analytics.ReduceResult[string], error) {
		return analytics.MapReduce(ctx, label, concat, items(n), analytics.MaxItemsPerOrchestration(2))
	})
	_, err := orchestrationtest.Run(env, o, 5)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"analytics.mapreduce:label:concat" is not registered`)
}

func TestKeyPartitionStable(t *testing.T) {
	// FNV-1a values, fixed forever: map activities in other processes
	// must agree.
	assert.Equal(t, 0, analytics.KeyPartition("anything", 1))
	assert.Equal(t, analytics.KeyPartition("the", 16), analytics.KeyPartition("the", 16))
	seen := map[int]bool{}
	for i := range 200 {
		seen[analytics.KeyPartition(fmt.Sprint("w", i), 8)] = true
	}
	assert.Len(t, seen, 8, "keys spread over every partition")
}
