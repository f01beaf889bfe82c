package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var (
	taxServiceUp atomic.Bool
	charges      atomic.Int64
	charge       = activity.New("charge", func(ctx context.Context, cents int) (int, error) {
		charges.Add(1)
		return cents, nil
	})
	addTax = activity.New("add-tax", func(ctx context.Context, cents int) (int, error) {
		if !taxServiceUp.Load() {
			return 0, activity.NewNonRetryableError("Unavailable", "tax service down")
		}
		return cents * 12 / 10, nil
	})
	checkout = orchestration.New("checkout", func(ctx orchestration.Context, cents int) (int, error) {
		paid, err := orchestration.Call(ctx, charge, cents).Await(ctx)
		if err != nil {
			return 0, err
		}
		return orchestration.Call(ctx, addTax, paid).Await(ctx)
	})
)

// Rewind a failed instance once its cause is fixed: it restarts from the
// failed step, and the step that succeeded (the charge) is not run again.
// A Completed instance cannot be rewound.
func ExampleClient_Rewind() {
	dir, _ := os.MkdirTemp("", "rewind-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	eng, err := embedded.Open(ctx, filepath.Join(dir, "app.db"), embedded.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(checkout)
	w.RegisterActivities(charge, addTax)
	if err := w.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop(ctx)

	id, _ := client.Start(ctx, eng, checkout, 1000, client.WithInstanceID("checkout-1"))
	_, err = client.Result(ctx, eng, checkout, id)
	fmt.Println("first run:", err != nil)

	taxServiceUp.Store(true) // the cause is fixed
	if err := eng.Rewind(ctx, id, "tax service back"); err != nil {
		fmt.Println(err)
		return
	}
	total, err := client.Result(ctx, eng, checkout, id)
	fmt.Println("rewound:", total, err, "charges:", charges.Load())

	err = eng.Rewind(ctx, id, "again")
	fmt.Println(errors.Is(err, client.ErrNotRewindable))
	// Output:
	// first run: true
	// rewound: 1200 <nil> charges: 1
	// true
}
