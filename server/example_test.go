package server_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/server"
)

// A server with a token: API calls need it as a bearer token.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "server-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	eng, err := embedded.Open(ctx, filepath.Join(dir, "app.db"), embedded.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	// In a program: http.ListenAndServe("127.0.0.1:8233", server.New(...)),
	// or mount it in a mux of your own.
	srv := httptest.NewServer(server.New(eng, server.Options{Token: "s3cret"}))
	defer srv.Close()
	hc := srv.Client()
	defer hc.CloseIdleConnections()

	resp, err := hc.Get(srv.URL + "/api/v1/instances")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("WWW-Authenticate"))

	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/instances", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err = hc.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// 401 Unauthorized Bearer realm="cloudbutton"
	// 200 OK
}
