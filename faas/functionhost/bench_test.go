package functionhost_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
	"github.com/cloudbutton/cloudbutton/internal/lambdatest"
	"github.com/cloudbutton/cloudbutton/samples/lambdafunc/activities"
)

// BenchmarkWarmInvoke measures one warm invocation round trip through the
// AWS SDK client to the local host, reporting median and p99 latency.
func BenchmarkWarmInvoke(b *testing.B) {
	for _, kind := range []string{"inprocess", "bootstrap"} {
		b.Run(kind, func(b *testing.B) {
			fc := functionhost.FunctionConfig{InProcess: true, Concurrency: 1}
			if kind == "bootstrap" {
				fc = functionhost.FunctionConfig{Bootstrap: bootstrap(b), Concurrency: 1}
			}
			_, url := startHost(b, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"fn": fc}})
			inv := newInvoker(b, url, awslambda.Options{DefaultFunction: "fn"})
			r := req("greet", `"bench"`)
			for range 20 { // cold start and connection set-up
				_, err := inv.Invoke(context.Background(), r)
				require.NoError(b, err)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := inv.Invoke(context.Background(), r); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			reportPercentiles(b, lat)
		})
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchmarkFanOut1000 runs 1,000 activity invocations with 50 in flight,
// in-process and through the local host, to show the host's overhead.
func BenchmarkFanOut1000(b *testing.B) {
	const n, width = 1000, 50
	run := func(b *testing.B, inv faas.Invoker) {
		fan := func() {
			sem := make(chan struct{}, width)
			var wg sync.WaitGroup
			for i := range n {
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					r := req("count-words", `"the quick brown fox jumps over the lazy dog"`)
					r.TaskID = int64(i)
					if _, err := inv.Invoke(context.Background(), r); err != nil {
						b.Error(err)
					}
				}()
			}
			wg.Wait()
		}
		fan() // warm: start the execution environments and connections
		b.ResetTimer()
		for range b.N {
			fan()
		}
		b.StopTimer()
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/activity")
	}
	b.Run("inprocess-invoker", func(b *testing.B) {
		inv, err := faas.NewInProcess(activities.All(), faas.InProcessOptions{MaxConcurrent: width})
		require.NoError(b, err)
		run(b, inv)
	})
	for _, kind := range []string{"host-inprocess", "host-bootstrap"} {
		b.Run(kind, func(b *testing.B) {
			fc := functionhost.FunctionConfig{InProcess: true, Concurrency: width}
			if kind == "host-bootstrap" {
				fc = functionhost.FunctionConfig{Bootstrap: bootstrap(b), Concurrency: width}
			}
			_, url := startHost(b, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"fn": fc}})
			run(b, newInvoker(b, url, awslambda.Options{DefaultFunction: "fn"}))
		})
	}
}

// BenchmarkWarmInvokeVsRIE runs the same plain aws-lambda-go function on
// AWS's Runtime Interface Emulator and on the host, warm, alternating one
// invoke on each through the real SDK client, and reports both medians
// and their ratio (host/RIE; the target is 0.5 or less).
func BenchmarkWarmInvokeVsRIE(b *testing.B) {
	plain := lambdatest.BuildPlain(b)
	rie := newClient(b, lambdatest.Start(b, plain, lambdatest.Options{Timeout: time.Minute}))
	_, url := startHost(b, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"fn": {Bootstrap: plain, Concurrency: 1, Timeout: time.Minute},
	}})
	host := newClient(b, url)
	call := func(c *lambda.Client, fn string) time.Duration {
		start := time.Now()
		out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: []byte(`{"case":"echo"}`)})
		if err != nil || out.FunctionError != nil {
			b.Fatalf("%s: %v", fn, err)
		}
		return time.Since(start)
	}
	for range 20 {
		call(rie, lambdatest.FunctionName)
		call(host, "fn")
	}
	rieLat, hostLat := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		rieLat = append(rieLat, call(rie, lambdatest.FunctionName))
		hostLat = append(hostLat, call(host, "fn"))
	}
	b.StopTimer()
	slices.Sort(rieLat)
	slices.Sort(hostLat)
	r, h := rieLat[len(rieLat)/2], hostLat[len(hostLat)/2]
	b.ReportMetric(float64(h.Microseconds()), "host-p50-µs")
	b.ReportMetric(float64(r.Microseconds()), "rie-p50-µs")
	b.ReportMetric(float64(h)/float64(r), "host/rie")
}
