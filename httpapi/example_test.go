package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/httpapi"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// An approval flow over HTTP: start an orchestration that waits for an
// event, raise the event (the webhook), and long-poll until it completes.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "httpapi-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	eng, err := embedded.Open(ctx, filepath.Join(dir, "app.db"), embedded.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	approve := orchestration.New("approve", func(ctx orchestration.Context, item string) (string, error) {
		ok, err := orchestration.WaitEvent[bool](ctx, "approval", 0).Await(ctx)
		if err != nil || !ok {
			return "rejected " + item, err
		}
		return "approved " + item, nil
	})
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(approve)
	if err := w.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer w.Stop(ctx)

	srv := httptest.NewServer(httpapi.New(eng, httpapi.Options{}))
	defer srv.Close()
	hc := srv.Client()
	defer hc.CloseIdleConnections()

	resp, err := hc.Post(srv.URL+"/api/v1/instances", "application/json",
		strings.NewReader(`{"name":"approve","id":"order-1","input":"laptop"}`))
	if err != nil {
		log.Fatal(err)
	}
	var acc httpapi.Accepted
	_ = json.NewDecoder(resp.Body).Decode(&acc)
	resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Location"))

	events := strings.Replace(acc.Links.Events, "{name}", "approval", 1)
	resp, err = hc.Post(srv.URL+events, "application/json", strings.NewReader("true"))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status, events)

	resp, err = hc.Get(srv.URL + acc.Links.Wait + "?timeout=30s")
	if err != nil {
		log.Fatal(err)
	}
	var in httpapi.Instance
	_ = json.NewDecoder(resp.Body).Decode(&in)
	resp.Body.Close()
	fmt.Println(resp.Status, in.RuntimeStatus, string(in.Output))
	// Output:
	// 202 Accepted /api/v1/instances/order-1
	// 202 Accepted /api/v1/instances/order-1/events/approval
	// 200 OK Completed "approved laptop"
}

// Errors are problem+json documents whose type names a kind.
func ExampleProblem() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "httpapi-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	eng, err := embedded.Open(ctx, filepath.Join(dir, "app.db"), embedded.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	rec := httptest.NewRecorder()
	httpapi.New(eng, httpapi.Options{}).ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/instances", strings.NewReader(`{"name": 7}`)))
	var p httpapi.Problem
	_ = json.Unmarshal(rec.Body.Bytes(), &p)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(p.Type, p.Field)
	fmt.Println(p.Detail)
	// Output:
	// 400 application/problem+json
	// urn:cloudbutton:problem:bad-input name
	// name: JSON number: want a string
}
