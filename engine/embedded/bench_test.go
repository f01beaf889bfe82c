package embedded_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/internal/bench"
	"github.com/cloudbutton/cloudbutton/worker"
)

// BenchmarkWorkloads runs the standard workloads of `cloudbutton bench`
// end to end (start to result), durable, one sub-benchmark each. Targets:
// fan-out of 10,000 under 0.5 s, sequence under 0.1 ms per step.
func BenchmarkWorkloads(b *testing.B) {
	for _, w := range bench.Standard(false) {
		b.Run(w.Name, func(b *testing.B) {
			eng, err := embedded.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), embedded.Options{})
			if err != nil {
				b.Fatal(err)
			}
			wk := worker.New(eng, worker.Options{})
			wk.RegisterOrchestrators(bench.Orchestrators()...)
			wk.RegisterActivities(bench.Activities()...)
			if err := wk.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			defer wk.Stop(context.Background())
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			for b.Loop() {
				if _, err := bench.Once(ctx, eng, w); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(w.Steps())/1e3, "µs/step")
		})
	}
}

// BenchmarkActivityAttempts lists the attempts of a finished fan-out of
// 10,000 activities (what the dashboard's timeline reads): a history of
// 20,000 events decoded and folded.
func BenchmarkActivityAttempts(b *testing.B) {
	eng, err := embedded.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	wk := worker.New(eng, worker.Options{})
	wk.RegisterOrchestrators(bench.Orchestrators()...)
	wk.RegisterActivities(bench.Activities()...)
	if err := wk.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer wk.Stop(context.Background())
	ctx := context.Background()
	const n = 10000
	id, err := client.Start(ctx, eng, bench.FanOut, n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.Result(ctx, eng, bench.FanOut, id); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		as, err := eng.ActivityAttempts(ctx, id)
		if err != nil || len(as) != n {
			b.Fatalf("%d attempts, %v", len(as), err)
		}
	}
}
