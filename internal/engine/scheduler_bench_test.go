package engine

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/store/memstore"
)

// BenchmarkSchedulerPass is one look of the scheduler at 1,000 schedules
// of which none is due: the cost of each poll of an idle worker.
func BenchmarkSchedulerPass(b *testing.B) {
	clock := &stepClock{}
	clock.now.Store(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	st := memstore.New(clock.Now)
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
