package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
	"github.com/cloudbutton/cloudbutton/internal/store/sqlite"
)

// BenchmarkCommitStep measures one sequence step's commit: a result and
// the next scheduling appended to history, in one transaction.
func BenchmarkCommitStep(b *testing.B) {
	for _, d := range []struct {
		name string
		dur  sqlite.Durability
	}{{"process-crash", sqlite.ProcessCrash}, {"power-loss", sqlite.PowerLoss}} {
		b.Run(d.name, func(b *testing.B) {
			ctx := context.Background()
			s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"), sqlite.Options{Durability: d.dur})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			idx := int64(0)
			for b.Loop() {
				step := store.Step{InstanceID: "bench-instance-0123456789abcdef", Events: []replay.Event{
					{Index: idx, Type: replay.ActivityCompleted, TaskID: idx, Payload: []byte(`42`)},
					{Index: idx + 1, Type: replay.ActivityScheduled, TaskID: idx + 1, Name: "bench.noop", Payload: []byte(`43`)},
				}}
				idx += 2
				if err := s.Commit(ctx, []store.Step{step}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
