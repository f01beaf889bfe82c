package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/dashboard"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var (
	double = activity.New("double", func(_ context.Context, n int) (int, error) { return 2 * n, nil })
	sum    = orchestration.New("sum-of-doubles", func(ctx orchestration.Context, n int) (int, error) {
		in := make([]int, n)
		for i := range in {
			in[i] = i
		}
		out, err := orchestration.CallAll(ctx, double, in, 8).Await(ctx)
		total := 0
		for _, v := range out {
			total += v
		}
		return total, err
	})
)

// Serve the dashboard of an engine. Mount it in your own server (behind
// your authentication), or run `cloudbutton serve`, which does both.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "dashboard-example")
	defer os.RemoveAll(dir)
	eng, err := embedded.Open(ctx, filepath.Join(dir, "app.db"), embedded.Options{})
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(sum)
	w.RegisterActivities(double)
	if err := w.Start(ctx); err != nil {
		panic(err)
	}
	defer w.Stop(ctx)
	id, _ := client.Start(ctx, eng, sum, 100, client.WithInstanceID("sum-1"))
	if _, err := client.Result(ctx, eng, sum, id); err != nil {
		panic(err)
	}

	srv := httptest.NewServer(dashboard.New(eng, dashboard.Options{})) // or http.ListenAndServe("127.0.0.1:8233", ...)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/instances/sum-1")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	fmt.Println(strings.Count(string(page), `<rect class="bar `), "bars on the timeline")
	// Output:
	// 200 OK
	// 100 bars on the timeline
}
