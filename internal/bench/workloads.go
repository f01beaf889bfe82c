// Package bench holds the benchmark workloads shared by `go test -bench`
// and `cloudbutton bench`: the same orchestrators on every engine, timed
// end to end (start to result) through the engine-neutral client.
package bench

import (
	"context"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// Noop is the no-op activity of the workloads.
var Noop = activity.New("bench.noop", func(ctx context.Context, n int) (int, error) { return n, nil })

// FanOut fans out N no-op activities and sums their results.
var FanOut = orchestration.New("bench.fanout", func(ctx orchestration.Context, n int) (int, error) {
	fs := make([]orchestration.Future[int], n)
	for i := range fs {
		fs[i] = orchestration.Call(ctx, Noop, i)
	}
	vals, err := orchestration.All(ctx, fs...).Await(ctx)
	sum := 0
	for _, v := range vals {
		sum += v
	}
	return sum, err
})

// Sequence runs N no-op activities one after the other.
var Sequence = orchestration.New("bench.sequence", func(ctx orchestration.Context, n int) (int, error) {
	sum := 0
	for i := range n {
		v, err := orchestration.Call(ctx, Noop, i).Await(ctx)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
})

// Orchestrators returns the workloads' orchestrators.
func Orchestrators() []orchestration.Definition {
	return []orchestration.Definition{FanOut, Sequence}
}

// Activities returns the workloads' activities.
func Activities() []activity.Definition { return []activity.Definition{Noop} }
