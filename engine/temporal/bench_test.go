package temporal_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	tactivity "go.temporal.io/sdk/activity"
	tclient "go.temporal.io/sdk/client"
	tworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Benchmarks against the shared dev server (started with the recommended
// local dynamic config). Each op is one orchestration end to end.

var noop = activity.New("noop", func(ctx context.Context, x int) (int, error) { return x, nil })

var benchFanOut = orchestration.New("bench-fan-out", func(ctx orchestration.Context, n int) (int, error) {
	fs := make([]orchestration.Future[int], n)
	for i := range fs {
		fs[i] = orchestration.Call(ctx, noop, i)
	}
	vs, err := orchestration.All(ctx, fs...).Await(ctx)
	return len(vs), err
})

var benchSequence = orchestration.New("bench-sequence", func(ctx orchestration.Context, n int) (int, error) {
	x := 0
	for i := range n {
		v, err := orchestration.Call(ctx, noop, i).Await(ctx)
		if err != nil {
			return 0, err
		}
		x += v
	}
	return x, nil
})

func benchEngine(b *testing.B) *temporal.Engine {
	eng := openEngine(b, temporal.Options{})
	startWorker(b, eng, func(w *worker.Worker) {
		w.RegisterOrchestrators(benchFanOut, benchSequence)
		w.RegisterActivities(noop)
	})
	return eng
}

func runOne(b *testing.B, eng *temporal.Engine, o *orchestration.Orchestrator[int, int], n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	id, err := client.Start(ctx, eng, o, n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.Result(ctx, eng, o, id); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFanOut1000 is a fan-out/fan-in of 1,000 no-op activities.
func BenchmarkFanOut1000(b *testing.B) {
	eng := benchEngine(b)
	for b.Loop() {
		runOne(b, eng, benchFanOut, 1000)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/orchestration")
}

// BenchmarkFanOut10000 is a fan-out/fan-in of 10,000 no-op activities:
// past MaxPendingActivities, through batch child workflows.
func BenchmarkFanOut10000(b *testing.B) {
	eng := benchEngine(b)
	for b.Loop() {
		runOne(b, eng, benchFanOut, 10000)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/orchestration")
}

// BenchmarkSequence1000 is a sequence of 1,000 no-op activities.
func BenchmarkSequence1000(b *testing.B) {
	eng := benchEngine(b)
	for b.Loop() {
		runOne(b, eng, benchSequence, 1000)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*1000)/1000, "ms/step")
}

// BenchmarkSequence100 is a sequence of 100 no-op activities.
func BenchmarkSequence100(b *testing.B) {
	eng := benchEngine(b)
	for b.Loop() {
		runOne(b, eng, benchSequence, 100)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*100)/1000, "ms/step")
}

// BenchmarkConcurrentSmall runs 100 small orchestrations (one activity
// each) at once.
func BenchmarkConcurrentSmall(b *testing.B) {
	eng := benchEngine(b)
	const n = 100
	for b.Loop() {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { runOne(b, eng, benchSequence, 1) })
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n)/1000, "ms/orchestration")
}

// The adapter's own cost: the same fan-out written directly against the
// Temporal SDK, and through our API.

func sdkNoop(ctx context.Context, x int) (int, error) { return x, nil }

func sdkFanOut(ctx workflow.Context, n int) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Minute})
	fs := make([]workflow.Future, n)
	for i := range fs {
		fs[i] = workflow.ExecuteActivity(ctx, "sdk-noop", i)
	}
	for _, f := range fs {
		var v int
		if err := f.Get(ctx, &v); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func BenchmarkAdapterCost(b *testing.B) {
	const n = 200
	b.Run("sdk-direct", func(b *testing.B) {
		eng := openEngine(b, temporal.Options{})
		w := tworker.New(eng.TemporalClient(), eng.Options().TaskQueue, tworker.Options{
			MaxConcurrentActivityTaskPollers: eng.Options().ActivityPollers,
			MaxConcurrentWorkflowTaskPollers: eng.Options().WorkflowPollers,
		})
		w.RegisterWorkflowWithOptions(sdkFanOut, workflow.RegisterOptions{Name: "sdk-fan-out"})
		w.RegisterActivityWithOptions(sdkNoop, tactivity.RegisterOptions{Name: "sdk-noop"})
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(w.Stop)
		ctx := context.Background()
		for b.Loop() {
			run, err := eng.TemporalClient().ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{
				ID: fmt.Sprintf("sdk-%d", time.Now().UnixNano()), TaskQueue: eng.Options().TaskQueue,
			}, "sdk-fan-out", n)
			if err != nil {
				b.Fatal(err)
			}
			if err := run.Get(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/orchestration")
	})
	b.Run("cloudbutton", func(b *testing.B) {
		eng := benchEngine(b)
		for b.Loop() {
			runOne(b, eng, benchFanOut, n)
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/orchestration")
	})
}

// BenchmarkReplayAdapterCost isolates the adapter's CPU cost from the
// server: the same 200-activity fan-out, recorded once on the dev server
// written against the SDK and through our API, replayed in-process.
func BenchmarkReplayAdapterCost(b *testing.B) {
	const n = 200
	ctx := context.Background()
	eng := benchEngine(b)
	w := tworker.New(eng.TemporalClient(), eng.Options().TaskQueue+"-sdk", tworker.Options{})
	w.RegisterWorkflowWithOptions(sdkFanOut, workflow.RegisterOptions{Name: "sdk-fan-out"})
	w.RegisterActivityWithOptions(sdkNoop, tactivity.RegisterOptions{Name: "sdk-noop"})
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	run, err := eng.TemporalClient().ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{
		ID: fmt.Sprintf("sdk-replay-%d", time.Now().UnixNano()), TaskQueue: eng.Options().TaskQueue + "-sdk",
	}, "sdk-fan-out", n)
	if err != nil {
		b.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		b.Fatal(err)
	}
	w.Stop()
	sdkHist, err := eng.History(ctx, run.GetID())
	if err != nil {
		b.Fatal(err)
	}
	id, err := client.Start(ctx, eng, benchFanOut, n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.Result(ctx, eng, benchFanOut, id); err != nil {
		b.Fatal(err)
	}
	ourHist, err := eng.History(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sdk-direct", func(b *testing.B) {
		for b.Loop() {
			rep := tworker.NewWorkflowReplayer()
			rep.RegisterWorkflowWithOptions(sdkFanOut, workflow.RegisterOptions{Name: "sdk-fan-out"})
			if err := rep.ReplayWorkflowHistory(nil, sdkHist); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cloudbutton", func(b *testing.B) {
		for b.Loop() {
			if err := temporal.ReplayHistory(ourHist, temporal.ReplayOptions{}, benchFanOut); err != nil {
				b.Fatal(err)
			}
		}
	})
}
