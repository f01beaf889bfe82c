package cloudbutton_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cloudbutton/cloudbutton"
	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var (
	greet = activity.New("greet", func(ctx context.Context, name string) (string, error) {
		return "hello " + name, nil
	})
	greeter = orchestration.New("greeter", func(ctx orchestration.Context, name string) (string, error) {
		return orchestration.Call(ctx, greet, name).Await(ctx)
	})
)

// An application picks its engine by configuration: here the embedded
// engine on a file; "temporal://127.0.0.1:7233/default" runs the same code
// on Temporal.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "cloudbutton-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	eng, err := cloudbutton.Open(ctx, "sqlite:"+filepath.Join(dir, "app.db"), cloudbutton.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(greeter)
	w.RegisterActivities(greet)
	if err := w.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	id, _ := client.Start(ctx, eng, greeter, "ann")
	out, err := client.Result(ctx, eng, greeter, id)
	fmt.Println(out, err)
	// Output: hello ann <nil>
}
