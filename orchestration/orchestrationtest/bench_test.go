package orchestrationtest_test

import (
	"testing"

	"github.com/cloudbutton/cloudbutton/internal/bench"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

// BenchmarkFanOut1000 is the standard 1,000-activity fan-out in the
// harness, replay check included (target: 50 ms or less).
func BenchmarkFanOut1000(b *testing.B) {
	for b.Loop() {
		env := orchestrationtest.New(nil)
		env.RegisterActivities(bench.Activities()...)
		got, err := orchestrationtest.Run(env, bench.FanOut, 1000)
		if err != nil || got != 999*1000/2 {
			b.Fatal(got, err)
		}
		env.Close()
	}
}
