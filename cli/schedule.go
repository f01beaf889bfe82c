package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudbutton/cloudbutton/client"
)

// newScheduleCmd is `cloudbutton schedule`: create, list, describe, pause,
// unpause, trigger, backfill and delete schedules (client.Schedules).
func newScheduleCmd(cfg *engineConfig) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Cron and interval schedules that start orchestrations",
		Long: `Schedules start an orchestration at each slot of a cron expression or an
interval. The worker fires them (on the embedded engine: exactly once per
slot, even across a crash; on Temporal: as Temporal Schedules).`,
		Args: unknownCommand,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newScheduleCreateCmd(cfg), newScheduleListCmd(cfg), newScheduleDescribeCmd(cfg),
		newScheduleNoteCmd(cfg, "pause", "Pause a schedule: slots due while paused are not started", client.Schedules.PauseSchedule),
		newScheduleNoteCmd(cfg, "unpause", "Unpause a schedule: it goes on from its next slot", client.Schedules.UnpauseSchedule),
		newScheduleTriggerCmd(cfg), newScheduleBackfillCmd(cfg), newScheduleDeleteCmd(cfg))
	return cmd
}

// withSchedules opens the engine for one command and hands its schedules.
func withSchedules(cmd *cobra.Command, cfg *engineConfig, create bool, fn func(ctx context.Context, e engine, sc client.Schedules) error) error {
	return withEngine(cmd, cfg, create, func(ctx context.Context, e engine) error {
		sc, err := client.SchedulesOf(e)
		if err != nil {
			return err
		}
		return fn(ctx, e, sc)
	})
}

func newScheduleCreateCmd(cfg *engineConfig) *cobra.Command {
	var o client.ScheduleOptions
	var overlap string
	var paused, anyName bool
	cmd := &cobra.Command{
		Use:   "create ID (--cron EXPR | --every DURATION) NAME [INPUT-JSON | @FILE | -]",
		Short: "Create a schedule that starts orchestrator NAME at each slot",
		Long: `Create the schedule ID, which starts the orchestrator registered as NAME with
a JSON input (as 'cloudbutton start' takes it) at each slot: of a cron
expression (five fields or a descriptor such as @daily, read in --tz) or of an
interval (multiples of --every since the Unix epoch). The instance of a slot
is ID-<slot time in RFC 3339>, e.g. nightly-2026-12-01T02:30:00Z.`,
		Example: `  cloudbutton schedule create nightly --cron '30 2 * * *' --tz Europe/Paris report '{"full":true}'
  cloudbutton schedule create poll --every 5m --overlap skip --jitter 30s monitor
  cloudbutton schedule create once-a-day --cron @daily --catchup-window 1h --limit 7 cleanup`,
		Args: rangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			input, err := jsonInput(cmd, "INPUT-JSON", args, 2, "input-file")
			if err != nil {
				return err
			}
			if o.Overlap, err = client.ParseOverlapPolicy(overlap); err != nil {
				return withCode(ExitUsage, fmt.Errorf("--overlap: %w", err))
			}
			if o.Spec.Cron == "" && o.Spec.Every == 0 {
				return withCode(ExitUsage, fmt.Errorf("schedule create %s: give --cron EXPR or --every DURATION", args[0]))
			}
			if cmd.Flags().Changed("limit") && o.Limit <= 0 {
				return withCode(ExitUsage, fmt.Errorf("%w: --limit %d: must be positive; omit it for no limit", client.ErrInvalidSchedule, o.Limit))
			}
			o.ID, o.Orchestrator, o.Input, o.Paused = args[0], args[1], input, paused || o.Note != ""
			cfg.checkNames = !anyName
			return withSchedules(cmd, cfg, true, func(ctx context.Context, _ engine, sc client.Schedules) error {
				if err := sc.CreateScheduleRaw(ctx, o); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), o.ID)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Spec.Cron, "cron", "", `cron expression: "MIN HOUR DOM MON DOW" or @hourly, @daily, @weekly, @monthly, @yearly`)
	f.DurationVar(&o.Spec.Every, "every", 0, "interval (slots are its multiples since the Unix epoch)")
	f.StringVar(&o.Spec.TimeZone, "tz", "", "IANA time zone the cron expression is read in (default UTC), e.g. Europe/Paris")
	f.DurationVar(&o.Spec.Jitter, "jitter", 0, "delay each slot by a deterministic amount below this")
	f.StringVar(&overlap, "overlap", "skip", "when the previous run is still live: skip, buffer-one, allow-all or cancel-previous")
	f.DurationVar(&o.CatchupWindow, "catchup-window", client.DefaultCatchupWindow, "start slots missed while no worker ran if at most this old")
	f.IntVar(&o.Limit, "limit", 0, "stop after starting this many slots")
	f.BoolVar(&paused, "paused", false, "create it paused")
	f.BoolVar(&anyName, "any-name", false, "accept NAME even if the last worker does not register it (embedded; its instances wait, Blocked, for a worker that does)")
	f.StringVar(&o.Note, "note", "", "with --paused: why")
	f.String("input-file", "", "read the input JSON from this file")
	return cmd
}

func newScheduleListCmd(cfg *engineConfig) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the schedules",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSchedules(cmd, cfg, false, func(ctx context.Context, _ engine, sc client.Schedules) error {
				list, err := sc.ListSchedules(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), list)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSPEC\tORCHESTRATOR\tSTATE\tFIRED\tNEXT")
				for _, s := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", clip(s.ID), specText(s.Spec), clip(s.Orchestrator), stateText(s), s.Fired, nextText(s.Next))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func specText(s client.ScheduleSpec) string {
	var b strings.Builder
	if s.Cron != "" {
		fmt.Fprintf(&b, "cron %q", s.Cron)
	} else {
		fmt.Fprintf(&b, "every %s", s.Every)
	}
	if s.TimeZone != "" {
		fmt.Fprintf(&b, " in %s", s.TimeZone)
	}
	if s.Jitter > 0 {
		fmt.Fprintf(&b, " jitter %s", s.Jitter)
	}
	return b.String()
}

func stateText(s *client.ScheduleInfo) string {
	switch {
	case s.Paused:
		return "paused"
	case s.Limit > 0 && s.Remaining == 0:
		return "done"
	}
	return "active"
}

func nextText(next []time.Time) string {
	if len(next) == 0 {
		return "-"
	}
	return next[0].Format(time.RFC3339)
}

func newScheduleDescribeCmd(cfg *engineConfig) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "describe ID",
		Short: "Describe a schedule: definition, counters, recent instances, next slots",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSchedules(cmd, cfg, false, func(ctx context.Context, _ engine, sc client.Schedules) error {
				s, err := sc.DescribeSchedule(ctx, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), s)
				}
				printSchedule(cmd.OutOrStdout(), s)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printSchedule(w io.Writer, s *client.ScheduleInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ID:\t%s\n", clip(s.ID))
	fmt.Fprintf(tw, "Spec:\t%s\n", specText(s.Spec))
	fmt.Fprintf(tw, "Orchestrator:\t%s\n", clip(s.Orchestrator))
	if len(s.Input) > 0 {
		fmt.Fprintf(tw, "Input:\t%s\n", clip(string(s.Input)))
	}
	fmt.Fprintf(tw, "Overlap:\t%s\n", s.Overlap)
	fmt.Fprintf(tw, "Catch-up window:\t%s\n", s.CatchupWindow)
	fmt.Fprintf(tw, "State:\t%s\n", stateText(s))
	if s.Note != "" {
		fmt.Fprintf(tw, "Note:\t%s\n", clip(s.Note))
	}
	if s.Limit > 0 {
		fmt.Fprintf(tw, "Limit:\t%d (%d remaining)\n", s.Limit, s.Remaining)
	}
	fmt.Fprintf(tw, "Fired:\t%d\n", s.Fired)
	fmt.Fprintf(tw, "Skipped:\t%d (overlap)\n", s.Skipped)
	fmt.Fprintf(tw, "Missed:\t%d (older than the catch-up window)\n", s.Missed)
	for i, id := range s.Recent {
		label := ""
		if i == 0 {
			label = "Recent:"
		}
		fmt.Fprintf(tw, "%s\t%s\n", label, clip(id))
	}
	for i, t := range s.Next {
		label := ""
		if i == 0 {
			label = "Next:"
		}
		fmt.Fprintf(tw, "%s\t%s\n", label, t.Format(time.RFC3339))
	}
	_ = tw.Flush()
}

func newScheduleNoteCmd(cfg *engineConfig, verb, short string, op func(client.Schedules, context.Context, string, string) error) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSchedules(cmd, cfg, false, func(ctx context.Context, _ engine, sc client.Schedules) error {
				return op(sc, ctx, args[0], note)
			})
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why")
	return cmd
}

func newScheduleTriggerCmd(cfg *engineConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "trigger ID",
		Short: "Start the schedule's orchestration now (whatever its overlap policy or pause) and print the instance id",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSchedules(cmd, cfg, false, func(ctx context.Context, _ engine, sc client.Schedules) error {
				id, err := sc.TriggerSchedule(ctx, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), id)
				return nil
			})
		},
	}
}

func newScheduleBackfillCmd(cfg *engineConfig) *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:     "backfill ID --from TIME --to TIME",
		Short:   "Start the slots in [--from, --to) that have no instance yet, and print their ids",
		Example: `  cloudbutton schedule backfill nightly --from 2026-11-01T00:00:00Z --to 2026-11-08T00:00:00Z`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start, err := time.Parse(time.RFC3339, from)
			if err != nil {
				return withCode(ExitUsage, fmt.Errorf("--from %q: want RFC 3339, e.g. 2026-11-01T00:00:00Z", from))
			}
			end, err := time.Parse(time.RFC3339, to)
			if err != nil {
				return withCode(ExitUsage, fmt.Errorf("--to %q: want RFC 3339, e.g. 2026-11-08T00:00:00Z", to))
			}
			return withSchedules(cmd, cfg, false, func(ctx context.Context, _ engine, sc client.Schedules) error {
				ids, err := sc.BackfillSchedule(ctx, args[0], start, end)
				if err != nil {
					return err
				}
				for _, id := range ids {
					fmt.Fprintln(cmd.OutOrStdout(), id)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "first slot time (RFC 3339), included")
	cmd.Flags().StringVar(&to, "to", "", "end (RFC 3339), excluded")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func newScheduleDeleteCmd(cfg *engineConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a schedule (the instances it started are left as they are)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSchedules(cmd, cfg, false, func(ctx context.Context, _ engine, sc client.Schedules) error {
				return sc.DeleteSchedule(ctx, args[0])
			})
		},
	}
}
