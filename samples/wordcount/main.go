// Command wordcount counts the words of a corpus as a durable,
// data-parallel orchestration on the embedded engine, one FaaS invocation
// per batch of chunks, and checks the result against a plain
// single-process count of the same corpus.
//
//	go run ./samples/wordcount                        # the Go source tree, $(go env GOROOT)/src
//	go run ./samples/wordcount --input ~/corpus       # any local directory
//	go run ./samples/wordcount --input 's3://bucket/prefix?endpoint=http://127.0.0.1:9000'
//	go run ./samples/wordcount --local-host           # activities through a local Lambda-compatible host
//
// It prints the top words, both timings and their ratio, and where the
// history is stored. The orchestration and its activities are in package
// samples/wordcount/wordcount.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/samples/internal/samplekit"
	"github.com/cloudbutton/cloudbutton/samples/wordcount/wordcount"
	"github.com/cloudbutton/cloudbutton/storage"
	"github.com/cloudbutton/cloudbutton/worker"
)

func main() { samplekit.Main("wordcount", run) }

// config is the parsed command line.
type config struct {
	input, prefix  string
	engine         *samplekit.EngineFlags
	job            wordcount.Job
	lambdaEndpoint string
	lambdaFunction string
	localHost      bool
	progress       bool
	cpuProfile     string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("wordcount", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.input, "input", "", "corpus: a local directory or s3://bucket/prefix?endpoint=...&region=... (default $(go env GOROOT)/src)")
	fs.StringVar(&c.prefix, "prefix", "", "count only the objects whose key starts with this prefix")
	c.engine = samplekit.AddEngineFlags(fs, "wordcount")
	fs.Int64Var(&c.job.ChunkSize, "chunk-size", 4<<20, "largest byte range of one chunk")
	fs.Int64Var(&c.job.BatchSize, "batch-size", 6<<20, "about how many bytes one activity counts (small files are batched)")
	fs.IntVar(&c.job.Partitions, "partitions", 8, "reducers: the counts are partitioned by word into this many parts")
	fs.IntVar(&c.job.FanIn, "fan-in", 8, "partial counts combined by one merge activity")
	fs.IntVar(&c.job.MaxInFlight, "max-in-flight", 2*runtime.NumCPU(), "activities running at once (0: no bound)")
	fs.IntVar(&c.job.TolerateFailures, "tolerate", 0, "batches allowed to fail (they are reported, and verification fails)")
	fs.IntVar(&c.job.TopN, "top", 20, "top words to print")
	fs.StringVar(&c.job.Scratch, "scratch", "", "store URL for the intermediate counts, e.g. s3://bucket/tmp (default: a temporary directory, removed at the end)")
	fs.StringVar(&c.lambdaEndpoint, "lambda-endpoint", "", "invoke activities through a Lambda-compatible endpoint (e.g. a `cloudbutton functions serve` host) instead of in-process")
	fs.StringVar(&c.lambdaFunction, "lambda-function", "wordcount", "function that hosts the activities, with --lambda-endpoint or --local-host")
	fs.BoolVar(&c.localHost, "local-host", false, "start a local Lambda-compatible function host on 127.0.0.1 and invoke the activities through it over HTTP")
	fs.BoolVar(&c.progress, "progress", true, "show a progress bar on stderr")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the orchestrated count to this file")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: wordcount [flags]\n\nCounts words with a durable map-reduce on the embedded engine and checks the result\nagainst a plain single-process count.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q (the corpus is given with --input)", fs.Args())
	}
	switch {
	case c.job.ChunkSize <= 0:
		return c, fmt.Errorf("--chunk-size %d: want a positive number of bytes", c.job.ChunkSize)
	case c.job.BatchSize <= 0:
		return c, fmt.Errorf("--batch-size %d: want a positive number of bytes", c.job.BatchSize)
	case c.job.Partitions <= 0:
		return c, fmt.Errorf("--partitions %d: want at least 1", c.job.Partitions)
	case c.job.FanIn < 2:
		return c, fmt.Errorf("--fan-in %d: want at least 2", c.job.FanIn)
	case c.job.MaxInFlight < 0:
		return c, fmt.Errorf("--max-in-flight %d: want 0 (no bound) or more", c.job.MaxInFlight)
	case c.job.TopN <= 0:
		return c, fmt.Errorf("--top %d: want at least 1", c.job.TopN)
	case c.localHost && c.lambdaEndpoint != "":
		return c, errors.New("--local-host and --lambda-endpoint exclude each other")
	}
	return c, nil
}

// checkInput opens the corpus and fails with a clear message when it is
// missing or empty, before anything starts.
func checkInput(ctx context.Context, input, prefix string) (storage.Store, int64, error) {
	st, err := storage.Open(ctx, input)
	if err != nil {
		return nil, 0, fmt.Errorf("--input %s: %w", input, err)
	}
	objs, err := st.List(ctx, prefix)
	if err != nil {
		return nil, 0, fmt.Errorf("--input %s: listing: %w", input, err)
	}
	var size int64
	for _, o := range objs {
		size += o.Size
	}
	if size == 0 {
		what := "--input " + input
		if prefix != "" {
			what += " --prefix " + prefix
		}
		return nil, 0, fmt.Errorf("%s: empty corpus (%d objects, 0 bytes)", what, len(objs))
	}
	return st, size, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.input == "" {
		cfg.input = wordcount.DefaultCorpus(ctx)
	}
	st, size, err := checkInput(ctx, cfg.input, cfg.prefix)
	if err != nil {
		return err
	}
	cfg.job.Input, cfg.job.Prefix = st.URL(), cfg.prefix

	invoker, how, closeInvoker, err := newInvoker(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInvoker()
	rt, err := samplekit.Start(ctx, samplekit.Options{
		EngineFlags:   *cfg.engine,
		Orchestrators: wordcount.Orchestrators(),
		Activities:    wordcount.Activities(),
		Worker:        worker.Options{Invoker: invoker},
		Logger:        samplekit.QuietLogger(stderr),
		MaxPayload:    64 << 20,
	})
	if err != nil {
		return err
	}
	defer rt.Close()

	fmt.Fprintf(stdout, "counting words in %s (%.1f MB), activities %s\n", cfg.input, float64(size)/1e6, how)

	// The plain count: one process, one object after the other.
	t0 := time.Now()
	plainCounts, err := wordcount.CountPlain(ctx, st, cfg.prefix)
	if err != nil {
		return fmt.Errorf("plain count: %w", err)
	}
	plain := wordcount.Summarize(cfg.job.TopN, plainCounts)
	plainDur := time.Since(t0)
	plainCounts = nil
	fmt.Fprintf(stdout, "plain count:        %8.2fs  (one process, sequential)\n", plainDur.Seconds())

	// The orchestrated count.
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	t1 := time.Now()
	id, err := client.Start(ctx, rt.Client, wordcount.WordCount, cfg.job, client.WithInstanceID(samplekit.InstanceID("wordcount")))
	if err != nil {
		return err
	}
	stopBar := func() {}
	if cfg.progress {
		stopBar = showProgress(ctx, rt.Client, id, stderr)
	}
	res, err := client.Result(ctx, rt.Client, wordcount.WordCount, id)
	stopBar()
	orchDur := time.Since(t1)
	if err != nil {
		rt.PrintHistoryHint(stdout, id)
		return err
	}
	st2, err := rt.Client.Status(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "orchestrated count: %8.2fs  (%d chunks in %d batches, %d activities, %d partitions)\n",
		orchDur.Seconds(), res.Chunks, res.Batches, st2.ActivitiesTotal, cfg.job.Partitions)
	fmt.Fprintf(stdout, "ratio orchestrated/plain: %.2f; orchestration overhead vs plain: %+.2fs\n",
		orchDur.Seconds()/plainDur.Seconds(), (orchDur - plainDur).Seconds())

	printTop(stdout, res)
	verr := wordcount.Verify(res, plain)
	if verr == nil {
		fmt.Fprintf(stdout, "verified: %d words, %d distinct, digest %s, equal to the plain count\n", res.Total, res.Distinct, res.Digest)
	}
	rt.PrintHistoryHint(stdout, id)
	return verr
}

func printTop(w io.Writer, res wordcount.Result) {
	fmt.Fprintf(w, "top %d words:\n", len(res.Top))
	for i, wf := range res.Top {
		fmt.Fprintf(w, "  %3d. %-16s %10d\n", i+1, wf.Word, wf.Count)
	}
	for _, f := range res.Failed {
		fmt.Fprintf(w, "failed batch: %s\n", f)
	}
}

// showProgress draws a progress bar of the batches counted, from the
// orchestration's custom status, until the returned stop is called. The
// bar is created once the number of batches is known (an indeterminate
// bar would run a spinner goroutine of its own).
func showProgress(ctx context.Context, eng client.Client, id string, w io.Writer) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var bar *progressbar.ProgressBar
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			s, err := eng.Status(ctx, id)
			if err != nil || len(s.CustomStatus) == 0 {
				continue
			}
			p, err := codec.Decode[wordcount.Status](eng.Codec(), "custom status", s.CustomStatus)
			if err != nil || p.Total == 0 {
				continue
			}
			if bar == nil {
				bar = progressbar.NewOptions(p.Total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("batches"),
					progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30),
					progressbar.OptionSetVisibility(isTerminal(w))) // no redraw spam in logs and pipes
			}
			_ = bar.Set(p.Done + p.Failed)
		}
	}()
	return func() {
		cancel()
		<-done
		if bar != nil {
			_ = bar.Finish()
		}
	}
}

// describeInvoker is how main reports where activities run.
func describeInvoker(cfg config) string {
	switch {
	case cfg.localHost:
		return fmt.Sprintf("through a local Lambda-compatible host (function %q)", cfg.lambdaFunction)
	case cfg.lambdaEndpoint != "":
		return fmt.Sprintf("through Lambda at %s (function %q)", cfg.lambdaEndpoint, cfg.lambdaFunction)
	}
	if cfg.job.MaxInFlight == 0 {
		return "in-process (no bound on activities in flight)"
	}
	return fmt.Sprintf("in-process (at most %d in flight)", cfg.job.MaxInFlight)
}

// isTerminal reports whether w is a terminal (the progress bar draws only
// there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
