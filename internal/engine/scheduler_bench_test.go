package engine

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/store"
	"github.com/cloudbutton/cloudbutton/internal/store/memstore"
	"github.com/cloudbutton/cloudbutton/internal/store/sqlite"
)

// BenchmarkSchedulerPass is one look of the scheduler at 1,000 schedules
// of which none is due: the cost of each poll of an idle worker.
func BenchmarkSchedulerPass(b *testing.B) {
	b.Run("memstore", func(b *testing.B) {
		clock := &stepClock{}
		clock.now.Store(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).UnixNano())
		benchmarkPass(b, clock, memstore.New(clock.Now))
	})
	b.Run("sqlite", func(b *testing.B) {
		clock := &stepClock{}
		clock.now.Store(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).UnixNano())
		st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		benchmarkPass(b, clock, st)
	})
}

func benchmarkPass(b *testing.B, clock *stepClock, st interface {
	store.Store
	store.Schedules
}) {
	quiet := slog.New(slog.DiscardHandler)
	e := New(st, Options{Clock: clock, Logger: quiet})
	b.Cleanup(func() { _ = e.Close() })
	ctx := context.Background()
	for i := range 1000 {
		if err := e.CreateScheduleRaw(ctx, client.ScheduleOptions{ID: fmt.Sprintf("s%d", i), Orchestrator: "o",
			Spec: client.ScheduleSpec{Cron: "30 2 * * *", TimeZone: "Europe/Paris"}}); err != nil {
			b.Fatal(err)
		}
	}
	s := &scheduler{e: e, ss: st, work: e.newWork(), log: quiet, ctx: ctx}
	s.pass()
	b.ResetTimer()
	for b.Loop() {
		s.pass()
	}
}
