package orchestrationtest_test

import (
	"context"
	"testing"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

var (
	benchNoop   = activity.New("bench-noop", func(ctx context.Context, n int) (int, error) { return n, nil })
	benchFanOut = orchestration.New("bench-fan-out", func(ctx orchestration.Context, n int) (int, error) {
		fs := make([]orchestration.Future[int], n)
		for i := range fs {
			fs[i] = orchestration.Call(ctx, benchNoop, i)
		}
		vs, err := orchestration.All(ctx, fs...).Await(ctx)
		sum := 0
		for _, v := range vs {
			sum += v
		}
		return sum, err
	})
)

// BenchmarkFanOut1000 is a 1,000-activity fan-out in the harness, replay
// check included (target: 50 ms or less).
func BenchmarkFanOut1000(b *testing.B) {
	for b.Loop() {
		env := orchestrationtest.New(nil)
		env.RegisterActivities(benchNoop)
		got, err := orchestrationtest.Run(env, benchFanOut, 1000)
		if err != nil || got != 999*1000/2 {
			b.Fatal(got, err)
		}
		env.Close()
	}
}
