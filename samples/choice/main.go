// Command choice is the branching sample: the Step Functions Choice state
// as plain Go if/switch on data, and the Parallel state as
// orchestration.Go branches joined by awaiting them, on the embedded
// engine.
//
//	go run ./samples/choice                        # three sample orders, three paths
//	go run ./samples/choice --amount 2500.00 --country US --shipping pickup
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/samples/internal/samplekit"
)

func main() { samplekit.Main("choice", run) }

// sampleOrders take three different paths.
var sampleOrders = []Order{
	{ID: "A-1", AmountCents: 4_200, Country: "ES", Shipping: "express", Items: []string{"book"}},
	{ID: "B-2", AmountCents: 250_000, Country: "US", Shipping: "pickup", Items: []string{"laptop", "dock"}},
	{ID: "C-3", AmountCents: 5_000_000, Country: "US", Shipping: "standard", Items: []string{"car"}},
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("choice", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := samplekit.AddEngineFlags(fs, "choice")
	amount := fs.Float64("amount", 0, "process one order of this amount (default: three sample orders)")
	country := fs.String("country", "ES", "country of the order given with --amount")
	shipping := fs.String("shipping", "standard", "express, standard or pickup, for the order given with --amount")
	items := fs.String("items", "book,pen", "comma-separated items of the order given with --amount")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	orders := sampleOrders
	if *amount != 0 {
		if *amount < 0 || math.IsNaN(*amount) || math.IsInf(*amount, 0) {
			return fmt.Errorf("--amount %g: want a positive amount", *amount)
		}
		orders = []Order{{ID: "CLI-1", AmountCents: int64(math.Round(*amount * 100)), Country: strings.ToUpper(*country),
			Shipping: *shipping, Items: strings.Split(*items, ",")}}
	}
	rt, err := samplekit.Start(ctx, samplekit.Options{
		EngineFlags: *engine, Orchestrators: []orchestration.Definition{ProcessOrder}, Activities: activities(), Logger: samplekit.QuietLogger(stderr),
	})
	if err != nil {
		return err
	}
	defer rt.Close()
	for _, o := range orders {
		id, err := client.Start(ctx, rt.Client, ProcessOrder, o, client.WithInstanceID(samplekit.InstanceID("choice-"+o.ID)))
		if err != nil {
			return err
		}
		out, err := client.Result(ctx, rt.Client, ProcessOrder, id)
		if err != nil {
			rt.PrintHistoryHint(stdout, id)
			return err
		}
		fmt.Fprintf(stdout, "order %s (%.2f, %s, %s): %s %s\n  path: %s\n", o.ID, float64(o.AmountCents)/100, o.Country, o.Shipping,
			out.Status, out.Reference, strings.Join(out.Path, " -> "))
		rt.PrintHistoryHint(stdout, id)
	}
	return nil
}
