package replay_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
)

// BenchmarkReplay measures rebuilding an instance from a history of about
// 10,000 events (a fan-out of 5,000 activities). Target: under 10 ms.
func BenchmarkReplay(b *testing.B) {
	for _, tc := range []struct {
		name string
		n    int
	}{{"fan-out-5000/events=10002", 5000}, {"sequence-5000/events=10002", 5000}} {
		def := fanOut
		if tc.name[:3] == "seq" {
			def = sequence
		}
		history := runLive(b, def, tc.n, rand.New(rand.NewPCG(1, 1)))
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x := replay.New(core.DefinitionOf(def), replay.Options{})
				if err := x.Replay(history); err != nil {
					b.Fatal(err)
				}
				x.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(history)), "ns/event")
		})
	}
}

// BenchmarkFanIn applies N completions one at a time to a live instance:
// the cost per completion must stay flat as N grows (O(N) overall).
func BenchmarkFanIn(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("completions=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				x := replay.New(core.DefinitionOf(fanOut), replay.Options{})
				res := x.Apply([]replay.Event{started(fanOut.Name(), n)})
				comps := make([]replay.Event, 0, n)
				for _, e := range res.Events[1:] {
					comps = append(comps, completion(e))
				}
				b.StartTimer()
				for i := range comps {
					x.Apply(comps[i : i+1])
				}
				b.StopTimer()
				x.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/completion")
		})
	}
}

// BenchmarkPendingFutureMemory measures the heap held per pending activity
// future (and its history event) after a fan-out of 10,000. Target: under
// 1 KiB.
func BenchmarkPendingFutureMemory(b *testing.B) {
	const n = 10000
	var perFuture float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		x := replay.New(core.DefinitionOf(fanOut), replay.Options{})
		res := x.Apply([]replay.Event{started(fanOut.Name(), n)})
		runtime.GC()
		runtime.ReadMemStats(&after)
		perFuture = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(res)
		x.Close()
	}
	b.ReportMetric(perFuture, "B/pending-future")
}
