package embedded_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var square = activity.New("square", func(ctx context.Context, n int) (int, error) { return n * n, nil })

var sumOfSquares = orchestration.New("sum-of-squares", func(ctx orchestration.Context, n int) (int, error) {
	in := make([]int, n)
	for i := range in {
		in[i] = i + 1
	}
	squares, err := orchestration.CallAll(ctx, square, in, 4).Await(ctx) // at most 4 in flight
	sum := 0
	for _, s := range squares {
		sum += s
	}
	return sum, err
})

// Run an orchestration on the embedded engine: a SQLite file, a worker in
// this process, and the client.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	eng, err := embedded.Open(ctx, filepath.Join(dir, "app.db"), embedded.Options{})
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(sumOfSquares)
	w.RegisterActivities(square)
	if err := w.Start(ctx); err != nil {
		panic(err)
	}
	defer w.Stop(ctx)

	id, err := client.Start(ctx, eng, sumOfSquares, 10, client.WithInstanceID("squares-1"))
	if err != nil {
		panic(err)
	}
	sum, err := client.Result(ctx, eng, sumOfSquares, id)
	st, _ := eng.Status(ctx, id)
	fmt.Println(sum, err, st.RuntimeStatus, st.ActivitiesDone)
	// Output: 385 <nil> Completed 10
}
