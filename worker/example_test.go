package worker_test

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

var (
	double  = activity.New("double", func(ctx context.Context, x int) (int, error) { return 2 * x, nil })
	doubler = orchestration.New("doubler", func(ctx orchestration.Context, x int) (int, error) {
		return orchestration.Call(ctx, double, x).Await(ctx)
	})
)

// A worker hosts orchestrators and activities on an engine; registrations
// are fixed once it starts.
func ExampleWorker() {
	dir, _ := os.MkdirTemp("", "worker-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	eng, err := embedded.Open(ctx, filepath.Join(dir, "app.db"), embedded.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	w := worker.New(eng, worker.Options{MaxConcurrentActivities: 8})
	w.RegisterOrchestrators(doubler)
	w.RegisterActivities(double)
	if err := w.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop(ctx)
	id, _ := client.Start(ctx, eng, doubler, 21)
	fmt.Println(client.Result(ctx, eng, doubler, id))
	// Output: 42 <nil>
}
