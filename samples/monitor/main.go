// Command monitor is the eternal-orchestration sample: it polls a URL on a
// durable timer until it answers 2xx, continuing as new every few checks
// so that its history stays bounded, and stops after --max-checks.
//
//	go run ./samples/monitor                        # watches a demo service it starts on 127.0.0.1
//	go run ./samples/monitor --url http://127.0.0.1:8080/health --interval 5s
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/samples/internal/samplekit"
)

func main() { samplekit.Main("monitor", run) }

// demoService answers 503 to its first downFor requests, then 200.
func demoService(downFor int) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	var n atomic.Int64
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= int64(downFor) {
			http.Error(w, "starting up", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/health", func() { _ = srv.Close() }, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("monitor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := samplekit.AddEngineFlags(fs, "monitor")
	w := Watch{}
	fs.StringVar(&w.URL, "url", "", "URL to watch (default: a demo service on 127.0.0.1 that is down for its first --demo-down requests)")
	fs.DurationVar(&w.Interval, "interval", 300*time.Millisecond, "time between checks (a durable timer)")
	fs.IntVar(&w.MaxChecks, "max-checks", 20, "give up after this many checks")
	fs.IntVar(&w.ChecksPerRun, "checks-per-run", 3, "checks per run before continuing as new (bounds the history)")
	demoDown := fs.Int("demo-down", 7, "requests the demo service answers 503 before it is up")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if w.Interval <= 0 || w.MaxChecks <= 0 || w.ChecksPerRun <= 0 {
		return fmt.Errorf("--interval %s, --max-checks %d and --checks-per-run %d must be positive", w.Interval, w.MaxChecks, w.ChecksPerRun)
	}
	if w.URL == "" {
		url, stop, err := demoService(*demoDown)
		if err != nil {
			return err
		}
		defer stop()
		w.URL = url
		fmt.Fprintf(stdout, "demo service at %s: down for its first %d requests\n", url, *demoDown)
	}
	rt, err := samplekit.Start(ctx, samplekit.Options{
		EngineFlags: *engine, Orchestrators: []orchestration.Definition{Monitor}, Activities: []activity.Definition{CheckURL},
		Logger: samplekit.QuietLogger(stderr),
	})
	if err != nil {
		return err
	}
	defer rt.Close()
	id, err := client.Start(ctx, rt.Client, Monitor, w, client.WithInstanceID(samplekit.InstanceID("monitor")))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "watching %s every %s (continue-as-new every %d checks, at most %d checks)\n", w.URL, w.Interval, w.ChecksPerRun, w.MaxChecks)

	// Print each check as the custom status reports it.
	var last []byte
	for {
		st, err := rt.Client.Status(ctx, id)
		if err != nil {
			return err
		}
		if len(st.CustomStatus) > 0 && !bytes.Equal(st.CustomStatus, last) {
			last = st.CustomStatus
			if s, err := codec.Decode[Status](rt.Client.Codec(), "custom status", st.CustomStatus); err == nil {
				fmt.Fprintf(stdout, "  check %2d (run %d): %s\n", s.Checks, s.Generation, describe(s.Last))
			}
		}
		if st.RuntimeStatus.Terminal() {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(w.Interval / 4):
		}
	}
	res, err := client.Result(ctx, rt.Client, Monitor, id)
	if err != nil {
		rt.PrintHistoryHint(stdout, id)
		return err
	}
	if res.Up {
		fmt.Fprintf(stdout, "UP after %d checks, in run %d (%d continue-as-new)\n", res.Checks, res.Generation, res.Generation)
	} else {
		fmt.Fprintf(stdout, "still DOWN after %d checks (%s); gave up in run %d\n", res.Checks, describe(res.Last), res.Generation)
	}
	rt.PrintHistoryHint(stdout, id)
	return nil
}

func describe(p Probe) string {
	switch {
	case p.Up:
		return fmt.Sprintf("up (%d)", p.Status)
	case p.Error != "":
		return "down: " + p.Error
	}
	return fmt.Sprintf("down (%d)", p.Status)
}
