// Command chaining is the function-chaining sample: a sequence of
// activities, each taking the previous one's result (IBM Composer's
// sequence and repeat(n, action), a chain of Step Functions Task states),
// run durably on the embedded engine.
//
//	go run ./samples/chaining
//	go run ./samples/chaining --file README.md --rounds 10
package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/samples/internal/samplekit"
)

func main() { samplekit.Main("chaining", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chaining", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := samplekit.AddEngineFlags(fs, "chaining")
	file := fs.String("file", "", "text file to process (default: --text)")
	text := fs.String("text", "  Durable   orchestrations SURVIVE crashes;\n\tthey replay   their history!  ", "text to process when --file is not given")
	rounds := fs.Int("rounds", 3, "rounds of the hash chain (repeat(n, hash))")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *rounds < 0 {
		return fmt.Errorf("--rounds %d: want 0 or more", *rounds)
	}
	rt, err := samplekit.Start(ctx, samplekit.Options{
		EngineFlags: *engine, Orchestrators: []orchestration.Definition{Pipeline}, Activities: activities(), Logger: samplekit.QuietLogger(stderr),
	})
	if err != nil {
		return err
	}
	defer rt.Close()

	id, err := client.Start(ctx, rt.Client, Pipeline, Input{Path: *file, Text: *text, Rounds: *rounds},
		client.WithInstanceID(samplekit.InstanceID("chaining")))
	if err != nil {
		return err
	}
	out, err := client.Result(ctx, rt.Client, Pipeline, id)
	if err != nil {
		rt.PrintHistoryHint(stdout, id)
		return err
	}
	clean := out.Clean
	if len(clean) > 120 {
		clean = clean[:120] + "..."
	}
	fmt.Fprintf(stdout, "clean text:  %q\n", clean)
	fmt.Fprintf(stdout, "stats:       %d words, %d runes, longest word %q\n", out.Stats.Words, out.Stats.Runes, out.Stats.Longest)
	fmt.Fprintf(stdout, "fingerprint: %s (%d rounds of SHA-256)\n", out.Fingerprint, *rounds)
	rt.PrintHistoryHint(stdout, id)
	return nil
}
