package client_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

var echo = orchestration.New("echo", func(ctx orchestration.Context, s string) (string, error) { return s, nil })

// A retried webhook delivers the same order twice: with a deduplication
// key, the second start returns the first instance; a debounced start
// gives one run with the last input.
func ExampleWithDedup() {
	dir, _ := os.MkdirTemp("", "client-dedup")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	eng, err := embedded.Open(ctx, filepath.Join(dir, "app.db"), embedded.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	a, _ := client.Start(ctx, eng, echo, "first", client.WithDedup("order-7", time.Hour))
	b, _ := client.Start(ctx, eng, echo, "second", client.WithDedup("order-7", time.Hour))
	fmt.Println(a == b)

	x, _ := client.Start(ctx, eng, echo, "draft 1", client.WithDebounce("doc-3", time.Hour))
	y, _ := client.Start(ctx, eng, echo, "draft 2", client.WithDebounce("doc-3", time.Hour))
	st, _ := eng.Status(ctx, y)
	fmt.Println(x == y, st.RuntimeStatus, string(st.Input))
	// Output:
	// true
	// true Pending "draft 2"
}
