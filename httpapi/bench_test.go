package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/httpapi"
)

// BenchmarkStarts runs a loop of 1,000 starts through the Go client and a
// loop of 1,000 starts through the API (POST /api/v1/instances over HTTP
// on 127.0.0.1, keep-alive, each 202 read), alternately, in the same run
// on the same embedded engine (a SQLite file, no worker: a start is its
// commit). It reports each loop's time per 1,000 starts and api/client,
// the API's cost over the client (the target is at most 1.05).
//
// sequential is one start at a time: each API start adds a loopback
// round trip and the handler to the start's commit. concurrent keeps 16
// starts in flight (16 goroutines, 16 connections), as a web front end
// does: commits are serialized, and the HTTP work overlaps them.
// in-process calls the handler directly (ServeHTTP with a recorder):
// the API's own cost (routing, decoding, encoding), without the network.
func BenchmarkStarts(b *testing.B) {
	for _, bc := range []struct {
		name      string
		inFlight  int
		inProcess bool
	}{{"sequential", 1, false}, {"concurrent", 16, false}, {"in-process", 1, true}} {
		b.Run(bc.name, func(b *testing.B) { benchStarts(b, bc.inFlight, bc.inProcess) })
	}
}

func benchStarts(b *testing.B, inFlight int, inProcess bool) {
	const n = 1000
	ctx := context.Background()
	eng, err := embedded.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), embedded.Options{Logger: quiet()})
	require.NoError(b, err)
	b.Cleanup(func() { _ = eng.Close() })
	h := httpapi.New(eng, httpapi.Options{Logger: quiet()})
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = inFlight
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	input := []byte(`{"item":"book","qty":2}`)
	body := `{"name":"api.echo","input":{"item":"book","qty":2}}`

	// loop runs n starts, inFlight at a time.
	loop := func(start func() error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range inFlight {
			wg.Go(func() {
				for next.Add(1) <= n {
					if err := start(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	viaClient := func() error {
		_, err := eng.StartRaw(ctx, echo.Name(), input, client.StartOptions{})
		return err
	}
	viaAPI := func() error {
		if inProcess {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/instances", strings.NewReader(body)))
			if rec.Code != http.StatusAccepted {
				b.Errorf("status %d", rec.Code)
			}
			return nil
		}
		resp, err := hc.Post(srv.URL+"/api/v1/instances", "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			b.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	loop(viaClient) // warm-up: the file, the statements, the connections
	loop(viaAPI)
	var tc, ta time.Duration
	i := 0
	for b.Loop() {
		// Alternate which goes first, so that neither always finds the
		// WAL just checkpointed.
		first, second, t1, t2 := viaClient, viaAPI, &tc, &ta
		if i%2 == 1 {
			first, second, t1, t2 = viaAPI, viaClient, &ta, &tc
		}
		t0 := time.Now()
		loop(first)
		*t1 += time.Since(t0)
		t0 = time.Now()
		loop(second)
		*t2 += time.Since(t0)
		i++
	}
	b.ReportMetric(float64(tc.Microseconds())/1000/float64(i), "client-ms/1000")
	b.ReportMetric(float64(ta.Microseconds())/1000/float64(i), "api-ms/1000")
	b.ReportMetric(float64(ta)/float64(tc), "api/client")
}
