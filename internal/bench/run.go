package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// Workload is one benchmark: what it starts and how much.
type Workload struct {
	Name string
	// Orchestrations run concurrently, each with input N.
	Orch           *orchestration.Orchestrator[int, int]
	N              int
	Orchestrations int
	// Want is each orchestration's expected result.
	Want int
}

// Steps is the number of activities the workload runs.
func (w Workload) Steps() int { return w.N * max(w.Orchestrations, 1) }

// Standard returns the standard workloads; small drops the largest.
func Standard(small bool) []Workload {
	ws := []Workload{
		{Name: "fan-out/fan-in 1,000", Orch: FanOut, N: 1000, Orchestrations: 1, Want: 499500},
		{Name: "fan-out/fan-in 10,000", Orch: FanOut, N: 10000, Orchestrations: 1, Want: 49995000},
		{Name: "sequence of 100", Orch: Sequence, N: 100, Orchestrations: 1, Want: 4950},
		{Name: "sequence of 1,000", Orch: Sequence, N: 1000, Orchestrations: 1, Want: 499500},
		{Name: "1,000 orchestrations x 5 steps", Orch: Sequence, N: 5, Orchestrations: 1000, Want: 10},
	}
	if small {
		ws = slices.DeleteFunc(ws, func(w Workload) bool { return w.Steps() >= 5000 })
	}
	return ws
}

// Result is the measurement of one workload on one engine.
type Result struct {
	Engine   string
	Workload Workload
	Runs     []time.Duration
	PeakHeap uint64 // bytes, the largest heap in use seen during the runs
	Err      error
}

// Median of the runs.
func (r Result) Median() time.Duration { return pick(r.Runs, 0.5) }

// Min of the runs.
func (r Result) Min() time.Duration { return pick(r.Runs, 0) }

// Max of the runs.
func (r Result) Max() time.Duration { return pick(r.Runs, 1) }

func pick(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1)+0.5)]
}

// Run measures w on c (a worker for the workloads must be running) runs
// times, after one warm-up run.
func Run(ctx context.Context, engine string, c client.Client, w Workload, runs int) (res Result) {
	res = Result{Engine: engine, Workload: w}
	var peak atomic.Uint64
	stop := sampleHeap(&peak)
	defer func() { stop(); res.PeakHeap = peak.Load() }()
	for i := 0; i <= runs; i++ {
		d, err := Once(ctx, c, w)
		if err != nil {
			res.Err = err
			return res
		}
		if i > 0 {
			res.Runs = append(res.Runs, d)
		}
	}
	return res
}

// Once runs w one time on c (a worker for the workloads must be running),
// checks every result, and returns the wall time from the first start to
// the last result.
func Once(ctx context.Context, c client.Client, w Workload) (time.Duration, error) {
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(256)
	for range max(w.Orchestrations, 1) {
		g.Go(func() error {
			id, err := client.Start(gctx, c, w.Orch, w.N)
			if err != nil {
				return err
			}
			got, err := client.Result(gctx, c, w.Orch, id)
			if err != nil {
				return err
			}
			if got != w.Want {
				return fmt.Errorf("bench: %s returned %d, want %d", w.Name, got, w.Want)
			}
			return nil
		})
	}
	err := g.Wait()
	return time.Since(start), err
}

func sampleHeap(peak *atomic.Uint64) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// Print writes results as a table, engines side by side per workload, with
// the ratio of each engine's median to the first engine's.
func Print(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tengine\tmedian\tmin\tmax\tper step\tsteps/s\tpeak heap\tvs first\t")
	base := map[string]time.Duration{}
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(tw, "%s\t%s\tfailed: %v\t\t\t\t\t\t\t\n", r.Workload.Name, r.Engine, r.Err)
			continue
		}
		med := r.Median()
		ratio := "1.00x"
		if b, ok := base[r.Workload.Name]; ok {
			ratio = fmt.Sprintf("%.2fx", float64(med)/float64(b))
		} else {
			base[r.Workload.Name] = med
		}
		steps := r.Workload.Steps()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%.1f MiB\t%s\t\n", r.Workload.Name, r.Engine,
			round(med), round(r.Min()), round(r.Max()), round(med/time.Duration(max(steps, 1))),
			float64(steps)/med.Seconds(), float64(r.PeakHeap)/(1<<20), ratio)
	}
	return tw.Flush()
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(100 * time.Nanosecond)
}
