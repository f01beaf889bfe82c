package embedded_test

import (
	"context"
	"testing"

	"github.com/cloudbutton/cloudbutton/internal/bench"
)

// BenchmarkManySmall: 1,000 concurrent orchestrations of 5 sequential
// activities each.
func BenchmarkManySmall(b *testing.B) {
	eng := benchEngine(b)
	w := bench.Workload{Name: "many", Orch: bench.Sequence, N: 5, Orchestrations: 1000, Want: 10}
	for b.Loop() {
		r := bench.Run(context.Background(), "embedded", eng, w, 1)
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}
