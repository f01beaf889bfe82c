package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/internal/replay"
)

// errNothingToReplay is replay's refusal to run without orchestrators.
var errNothingToReplay = errors.New("nothing to replay against: this program registers no orchestrators " +
	"(build your own CLI with cli.Main(cli.Registrations{Orchestrators: ...}), see package cli)")

func newHistoryCmd(cfg *engineConfig) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "history ID",
		Short: "Show an instance's history as a table, or export it as JSON (--json)",
		Long: `Show an instance's history. With --json, write it in the format that
'cloudbutton replay' and orchestrationtest.ReplayHistoryFile read (on
Temporal: Temporal's own JSON, as 'temporal workflow show --output json').`,
		Example: `  cloudbutton history order-1
  cloudbutton history order-1 --json > order-1.json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withEngine(cmd, cfg, false, func(ctx context.Context, e engine) error {
				var buf bytes.Buffer
				if err := e.ExportHistory(ctx, args[0], &buf); err != nil {
					return err
				}
				if asJSON || cfg.engine != "embedded" {
					_, err := cmd.OutOrStdout().Write(buf.Bytes())
					return err
				}
				h, err := replay.ReadHistory(&buf)
				if err != nil {
					return err
				}
				return printHistory(cmd.OutOrStdout(), h)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "export JSON")
	return cmd
}

func printHistory(w io.Writer, h replay.History) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "# %s (%s): %d events\n", printable(h.InstanceID), printable(h.Name), len(h.Events))
	fmt.Fprintln(tw, "#\tTIME\tEVENT\tTASK\tNAME\tDETAIL")
	var t0 time.Time
	for _, e := range h.Events {
		if t0.IsZero() {
			t0 = e.Time
		}
		detail := clip(string(e.Payload))
		if e.Failure != nil {
			detail = e.Failure.Type + ": " + clip(e.Failure.Message)
		}
		if e.Type == replay.TimerCreated {
			detail = "fires at " + e.FireAt.Local().Format(time.RFC3339)
		}
		if e.Attempt > 1 {
			detail += fmt.Sprintf(" (attempt %d)", e.Attempt)
		}
		task := ""
		if e.TaskID > 0 {
			task = fmt.Sprint(e.TaskID)
		}
		fmt.Fprintf(tw, "%d\t+%s\t%s\t%s\t%s\t%s\n", e.Index, e.Time.Sub(t0).Round(time.Microsecond), e.Type, task, printable(e.Name),
			printable(strings.ReplaceAll(detail, "\n", " ")))
	}
	return tw.Flush()
}

func newReplayCmd(r Registrations) *cobra.Command {
	return &cobra.Command{
		Use:   "replay FILE",
		Short: "Replay an exported history against the orchestrators this program registers",
		Long: `Replay a history exported with 'cloudbutton history --json' (or, for Temporal,
'temporal workflow show --output json') against the current code of the
orchestrators this program registers (with cli.Main), and report whether the
code still reproduces it. Exit code 1 with the step that diverged if not.

Registered orchestrators: ` + names(r.orchestratorNames()) + ".",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defs := r.Orchestrators
			if len(defs) == 0 {
				return withCode(ExitUsage, errNothingToReplay)
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			if bytes.Contains(data, []byte(replay.HistoryFormat)) {
				var h replay.History
				if h, err = replay.ReadHistory(bytes.NewReader(data)); err == nil {
					err = replay.CheckHistory(h, defs...)
				}
				if errors.Is(err, replay.ErrNoDefinition) {
					err = fmt.Errorf("orchestrator %q is not registered in this program (registered: %s)", h.Name, names(r.orchestratorNames()))
				}
			} else {
				err = temporal.ReplayHistoryJSON(bytes.NewReader(data), temporal.ReplayOptions{}, defs...)
			}
			if err != nil {
				return fmt.Errorf("replaying %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s replays against the current code\n", args[0])
			return nil
		},
	}
}
