// Command fanout is the fan-out/fan-in sample: one activity per file,
// started at once and awaited with All, with partial failure reported
// item by item; then the same with bounded concurrency and a failure
// tolerance (analytics.Map), on the embedded engine.
//
//	go run ./samples/fanout                      # the files of $(go env GOROOT)/src/sort, and one missing file
//	go run ./samples/fanout --max-in-flight 2 a.txt b.txt dir/
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/samples/internal/samplekit"
)

func main() { samplekit.Main("fanout", run) }

// defaultItems lists the files of the Go tree's sort package, plus a file
// that does not exist, to show a partial failure.
func defaultItems(ctx context.Context) ([]string, error) {
	root := runtime.GOROOT() //nolint:staticcheck // fallback only
	if out, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		root = strings.TrimSpace(string(out))
	}
	items, err := expand([]string{filepath.Join(root, "src", "sort")})
	if err != nil {
		return nil, err
	}
	return append(items, filepath.Join(root, "src", "sort", "no-such-file.go")), nil
}

// expand replaces each directory by the files directly in it.
func expand(args []string) ([]string, error) {
	var items []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			items = append(items, a) // a missing file is an item that fails
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				items = append(items, filepath.Join(a, e.Name()))
			}
		}
	}
	return items, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := samplekit.AddEngineFlags(fs, "fanout")
	maxInFlight := fs.Int("max-in-flight", 4, "checksums running at a time in the bounded fan-out")
	tolerate := fs.Float64("tolerate", 0.25, "fraction of items allowed to fail in the bounded fan-out")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: fanout [flags] [file or directory ...]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *maxInFlight < 0:
		return fmt.Errorf("--max-in-flight %d: want 0 (no bound) or more", *maxInFlight)
	case *tolerate < 0 || *tolerate > 1:
		return fmt.Errorf("--tolerate %g: want a fraction between 0 and 1", *tolerate)
	}
	var items []string
	var err error
	if fs.NArg() > 0 {
		items, err = expand(fs.Args())
	} else {
		items, err = defaultItems(ctx)
	}
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return errors.New("no files to checksum (the directories given are empty)")
	}

	rt, err := samplekit.Start(ctx, samplekit.Options{
		EngineFlags: *engine, Orchestrators: orchestrators(), Activities: activities(), Logger: samplekit.QuietLogger(stderr),
	})
	if err != nil {
		return err
	}
	defer rt.Close()

	id1, err := client.Start(ctx, rt.Client, FanOut, items, client.WithInstanceID(samplekit.InstanceID("fanout-all")))
	if err != nil {
		return err
	}
	r1, err := client.Result(ctx, rt.Client, FanOut, id1)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fan-out of %d checksums, fan-in with All:\n", len(items))
	printReport(stdout, r1)
	rt.PrintHistoryHint(stdout, id1)

	job := BoundedJob{Paths: items, MaxInFlight: *maxInFlight, TolerateRate: *tolerate}
	id2, err := client.Start(ctx, rt.Client, FanOutBounded, job, client.WithInstanceID(samplekit.InstanceID("fanout-bounded")))
	if err != nil {
		return err
	}
	r2, err := client.Result(ctx, rt.Client, FanOutBounded, id2)
	fmt.Fprintf(stdout, "\nbounded fan-out (at most %d in flight, up to %.0f%% failures tolerated):\n", *maxInFlight, *tolerate*100)
	if err != nil {
		rt.PrintHistoryHint(stdout, id2)
		return err
	}
	printReport(stdout, r2)
	rt.PrintHistoryHint(stdout, id2)
	return nil
}

func printReport(w io.Writer, r Report) {
	var total int64
	for _, s := range r.Sums {
		total += s.Size
	}
	fmt.Fprintf(w, "  %d succeeded (%d bytes), %d failed\n", len(r.Sums), total, len(r.Failed))
	for i, s := range r.Sums {
		if i == 3 {
			fmt.Fprintf(w, "  ... %d more\n", len(r.Sums)-3)
			break
		}
		fmt.Fprintf(w, "  ok      %s  %s (%d bytes)\n", s.SHA256[:16], filepath.Base(s.Path), s.Size)
	}
	for _, f := range r.Failed {
		fmt.Fprintf(w, "  FAILED  item %d %s: %s\n", f.Index, filepath.Base(f.Item), f.Error)
	}
}

func activities() []activity.Definition { return []activity.Definition{Checksum} }
