package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// cart keeps a list of items: the query "items" reads it, the update
// "add" appends to it (its validator refuses empty names), and the event
// "checkout" ends it.
var cart = orchestration.New("cart", func(ctx orchestration.Context, _ struct{}) ([]string, error) {
	var items []string
	if err := orchestration.HandleQuery(ctx, "items", func(struct{}) ([]string, error) { return items, nil }); err != nil {
		return nil, err
	}
	err := orchestration.HandleUpdate(ctx, "add", func(_ orchestration.Context, item string) (int, error) {
		items = append(items, item)
		return len(items), nil
	}, orchestration.WithValidator(func(item string) error {
		if item == "" {
			return errors.New("an item needs a name")
		}
		return nil
	}))
	if err != nil {
		return nil, err
	}
	_, err = orchestration.WaitEvent[struct{}](ctx, "checkout", 0).Await(ctx)
	return items, err
})

// Send updates to a running orchestration and query its state. Queries
// and updates on the embedded engine are answered by the worker's
// process, here this one.
func ExampleUpdate() {
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
	w.RegisterOrchestrators(cart)
	if err := w.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	id, _ := client.Start(ctx, eng, cart, struct{}{}, client.WithInstanceID("cart-1"))

	n, err := client.Update[int](ctx, eng, id, "add", "apples")
	fmt.Println(n, err)
	_, err = client.Update[int](ctx, eng, id, "add", "")
	fmt.Println(errors.Is(err, client.ErrUpdateRejected))
	fmt.Println(err)
	items, err := client.Query[[]string](ctx, eng, id, "items", struct{}{})
	fmt.Println(items, err)
	_, err = client.Query[int](ctx, eng, id, "total", struct{}{})
	fmt.Println(errors.Is(err, client.ErrUnknownHandler))
	// Output:
	// 1 <nil>
	// true
	// client: update rejected: update "add" of instance "cart-1": an item needs a name
	// [apples] <nil>
	// true
}
