package client_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var approval = orchestration.New("approval", func(ctx orchestration.Context, amount int) (bool, error) {
	return orchestration.WaitEvent[bool](ctx, "approved", 0).Await(ctx)
})

// Ask a live instance why it is not moving: here it waits for an event,
// then, once the worker stopped, for a worker too.
func ExampleExplain() {
	dir, _ := os.MkdirTemp("", "explain-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	eng, err := embedded.Open(ctx, filepath.Join(dir, "app.db"), embedded.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(approval)
	if err := w.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	id, _ := client.Start(ctx, eng, approval, 250, client.WithInstanceID("expense-1"))
	var x *client.Explanation
	for x == nil || len(x.Waits) == 0 { // until the first step is taken
		time.Sleep(10 * time.Millisecond)
		if x, err = client.Explain(ctx, eng, id); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(x.RuntimeStatus, x.Waits[0].Kind, x.Waits[0].Name)
	fmt.Println(strings.HasPrefix(x.Summary, `waiting for the event "approved" since `))

	_ = w.Stop(ctx)
	x, _ = client.Explain(ctx, eng, id)
	for _, wt := range x.Waits {
		fmt.Println(wt.Kind)
	}
	// Output:
	// Running event approved
	// true
	// worker
	// event
}
