package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

var report = orchestration.New("report", func(ctx orchestration.Context, kind string) (string, error) {
	return kind + " report done", nil
})

// A nightly cron schedule in a time zone: its next slots, a trigger that
// runs it now, a backfill of two past nights (each slot once: again over
// the same range starts nothing), and the errors of bad input.
func ExampleCreateSchedule() {
	dir, _ := os.MkdirTemp("", "schedule-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	eng, err := embedded.Open(ctx, filepath.Join(dir, "app.db"), embedded.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(report)
	if err := w.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	err = client.CreateSchedule(ctx, eng, "nightly", client.Cron("30 2 * * *"), report, "sales",
		client.WithTimeZone("Europe/Paris"), client.WithOverlap(client.OverlapSkip), client.WithJitter(time.Minute))
	if err != nil {
		fmt.Println(err)
		return
	}
	sc, _ := client.SchedulesOf(eng)
	info, _ := sc.DescribeSchedule(ctx, "nightly")
	fmt.Println(info.Spec.Cron, info.Spec.TimeZone, info.Overlap, len(info.Next))

	id, _ := sc.TriggerSchedule(ctx, "nightly")
	out, _ := client.Result(ctx, eng, report, id)
	fmt.Println(out)

	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids, _ := sc.BackfillSchedule(ctx, "nightly", from, from.AddDate(0, 0, 2))
	fmt.Println(ids)
	ids, _ = sc.BackfillSchedule(ctx, "nightly", from, from.AddDate(0, 0, 2))
	fmt.Println(len(ids))

	err = client.CreateSchedule(ctx, eng, "bad", client.Cron("61 * * * *"), report, "x")
	fmt.Println(errors.Is(err, client.ErrInvalidSchedule))
	_, err = sc.DescribeSchedule(ctx, "missing")
	fmt.Println(errors.Is(err, client.ErrScheduleNotFound))
	// Output:
	// 30 2 * * * Europe/Paris skip 5
	// sales report done
	// [nightly-2026-01-01T01:30:00Z nightly-2026-01-02T01:30:00Z]
	// 0
	// true
	// true
}
