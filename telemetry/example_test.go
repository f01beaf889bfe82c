package telemetry_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/telemetry"
	"github.com/cloudbutton/cloudbutton/worker"
)

var greet = activity.New("greet", func(ctx context.Context, name string) (string, error) {
	return "hello, " + name, nil
})

var greetAll = orchestration.New("greet-all", func(ctx orchestration.Context, names []string) ([]string, error) {
	fs := make([]orchestration.Future[string], len(names))
	for i, n := range names {
		fs[i] = orchestration.Call(ctx, greet, n)
	}
	return orchestration.All(ctx, fs...).Await(ctx)
})

// Tracing is turned on by giving the worker a TracerProvider (here one
// that keeps spans in memory; in production, an OTLP exporter). Each
// activity's span is a child of its run's: the run starts and ends in
// this worker (with several workers, add
// sdktrace.WithIDGenerator(telemetry.IDGenerator{})).
func Example() {
	ctx := context.Background()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(ctx)

	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	eng, err := embedded.Open(ctx, filepath.Join(dir, "app.db"), embedded.Options{})
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	w := worker.New(eng, worker.Options{TracerProvider: tp})
	w.RegisterOrchestrators(greetAll)
	w.RegisterActivities(greet)
	if err := w.Start(ctx); err != nil {
		panic(err)
	}
	id, _ := client.Start(ctx, eng, greetAll, []string{"ada", "alan"})
	if _, err := client.Result(ctx, eng, greetAll, id); err != nil {
		panic(err)
	}
	_ = w.Stop(ctx) // the run's span is emitted once its end is committed

	var names []string
	var run sdktrace.ReadOnlySpan
	for _, s := range spans.GetSpans().Snapshots() {
		names = append(names, s.Name())
		if s.Name() == "orchestration greet-all" {
			run = s
		}
	}
	slices.Sort(names)
	fmt.Println(names)
	for _, s := range spans.GetSpans().Snapshots() {
		if s.Name() == "activity greet" {
			fmt.Println("attempt under the run:", s.Parent().SpanID() == run.SpanContext().SpanID())
		}
	}
	// Output:
	// [activity greet activity greet orchestration greet-all]
	// attempt under the run: true
	// attempt under the run: true
}

// With several workers sharing runs (Temporal), or workers restarting
// with runs in flight, IDGenerator gives each run's span ids derived from
// the run, so that its attempts nest under it whichever worker runs them.
func ExampleIDGenerator() {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()),
		sdktrace.WithIDGenerator(telemetry.IDGenerator{}))
	defer tp.Shutdown(context.Background())
	_ = worker.Options{TracerProvider: tp}
}
