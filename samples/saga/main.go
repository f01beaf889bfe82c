// Command saga is the compensation sample: it books a flight, a hotel and
// a car; when a booking fails, the ones already made are cancelled in
// reverse order (also when the orchestration is terminated mid-way), on
// the embedded engine. The providers keep their bookings as files in a
// ledger directory, so what was booked and cancelled is visible.
//
//	go run ./samples/saga                      # the car is sold out: the hotel and the flight are cancelled
//	go run ./samples/saga --car compact        # everything is booked
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/samples/internal/samplekit"
)

func main() { samplekit.Main("saga", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("saga", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := samplekit.AddEngineFlags(fs, "saga")
	t := Trip{}
	fs.StringVar(&t.Ledger, "ledger", filepath.Join(os.TempDir(), "cloudbutton-saga-ledger"), "directory where the providers record bookings")
	fs.StringVar(&t.From, "from", "BCN", "departure")
	fs.StringVar(&t.To, "to", "LIS", "destination")
	fs.IntVar(&t.Nights, "nights", 3, "hotel nights")
	fs.StringVar(&t.CarClass, "car", "limousine", "car class: "+strings.Join(AvailableCars, " or ")+" can be booked; flaky fails and is retried; anything else is sold out")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	rt, err := samplekit.Start(ctx, samplekit.Options{
		EngineFlags: *engine, Orchestrators: []orchestration.Definition{BookTrip}, Activities: activities(), Logger: samplekit.QuietLogger(stderr),
	})
	if err != nil {
		return err
	}
	defer rt.Close()

	t.ID = samplekit.InstanceID("saga")
	if _, err := client.Start(ctx, rt.Client, BookTrip, t, client.WithInstanceID(t.ID)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "booking trip %s: %s -> %s, %d nights, a %s car (ledger %s)\n", t.ID, t.From, t.To, t.Nights, t.CarClass, t.Ledger)
	it, err := client.Result(ctx, rt.Client, BookTrip, t.ID)
	if err != nil {
		rt.PrintHistoryHint(stdout, t.ID)
		return err
	}
	switch it.Status {
	case "booked":
		for _, b := range it.Bookings {
			fmt.Fprintf(stdout, "  booked    %-6s %s\n", b.Kind, b.Ref)
		}
		fmt.Fprintln(stdout, "BOOKED")
	default:
		fmt.Fprintf(stdout, "  failed:   %s\n", it.Reason)
		for _, b := range it.Cancelled {
			fmt.Fprintf(stdout, "  cancelled %-6s %s\n", b.Kind, b.Ref)
		}
		fmt.Fprintln(stdout, "ROLLED BACK: nothing stays booked")
	}
	rt.PrintHistoryHint(stdout, t.ID)
	return nil
}
