package client_test

import (
	"context"
	"errors"
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
	reserve = activity.New("reserve", func(ctx context.Context, item string) (string, error) {
		return "", activity.NewNonRetryableError("OutOfStock", item+" is out of stock")
	})
	order = orchestration.New("order", func(ctx orchestration.Context, item string) (string, error) {
		return orchestration.Call(ctx, reserve, item).Await(ctx)
	})
)

// Start, wait for the result, and match what failed with errors.As and
// errors.Is: the same on every engine and in the test harness.
func ExampleResult() {
	dir, _ := os.MkdirTemp("", "client-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	eng, err := embedded.Open(ctx, filepath.Join(dir, "app.db"), embedded.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(order)
	w.RegisterActivities(reserve)
	if err := w.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	id, _ := client.Start(ctx, eng, order, "book", client.WithInstanceID("order-1"))
	_, err = client.Result(ctx, eng, order, id)
	var ae *activity.Error
	fmt.Println(errors.As(err, &ae), ae.Type)
	var ie *client.InstanceError
	fmt.Println(errors.As(err, &ie), ie.Status.RuntimeStatus)
	// Output:
	// true OutOfStock
	// true Failed
}
