package embedded_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

func benchEngine(b *testing.B) *embedded.Engine {
	b.Helper()
	eng, err := embedded.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	w := worker.New(eng, worker.Options{})
	w.RegisterActivities(noop)
	w.RegisterOrchestrators(fanOut, sequence)
	if err := w.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		w.Stop(context.Background())
		eng.Close()
	})
	return eng
}

func runOne(b *testing.B, eng *embedded.Engine, o *orchestration.Orchestrator[int, int], n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	id, err := client.Start(ctx, eng, o, n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.Result(ctx, eng, o, id); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFanOut: fan-out/fan-in of N no-op activities, end to end
// (start to result), durable. Target for 10,000: under 0.5 s.
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("activities=%d", n), func(b *testing.B) {
			eng := benchEngine(b)
			for b.Loop() {
				runOne(b, eng, fanOut, n)
			}
		})
	}
}

// BenchmarkSequence: N activities one after the other. Target: under
// 0.1 ms per step.
func BenchmarkSequence(b *testing.B) {
	const n = 1000
	eng := benchEngine(b)
	for b.Loop() {
		runOne(b, eng, sequence, n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n/1e3, "µs/step")
}
