package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudbutton/cloudbutton/internal/soak"
)

// soakCommand is the command line that runs this program's hidden
// `soak child` (tests replace it with their own binary's).
var soakCommand = func() ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("soak: finding this program to start its children: %w", err)
	}
	return []string{exe, "soak", "child"}, nil
}

func newSoakCmd() *cobra.Command {
	var o soak.Options
	var small bool
	var verifyDir string
	var z soak.Sizes
	cmd := &cobra.Command{
		Use:   "soak",
		Short: "Kill a worker with SIGKILL again and again under load, then verify that nothing was lost",
		Long: `Run a kill -9 campaign on the embedded engine and verify it.

One worker process runs on a new SQLite file (in a temporary directory, or
--dir) and is killed with SIGKILL --kills times, at moments drawn from
--seed, and restarted each time: a fifth of the kills fall before it is
ready (start-up, the integrity check at open, recovery), a quarter within
50 ms of ready, the rest up to --max-kill-delay later. Meanwhile --loaders
loader processes start instances of every workload, --in-flight at a time
each: fan-outs, order-sensitive sequences, timers, 10-event waiters whose
events they raise one by one, parents of sub-orchestrations,
continue-as-new over several generations with kept events, retries with
back-off, instances they terminate, and instances they suspend, raise an
event to, and resume. The soak is bounded by kills, not by time. The seed
fixes the kill schedule and what the loaders start, with which inputs and
pauses; how the processes interleave still depends on the machine. The
workloads and the children are this program's own: any build of the CLI
can run it.

Every activity execution is appended (and fsync'd) to an execution log:
its idempotency key, activity, instance, step, attempt and a digest of its
input.

After the last kill the worker runs until every instance has ended, or
until nothing has changed for --idle. The verifier then reads the
database (status, list, exported histories) and the logs, and checks:
exact outputs; raised = received events, in order; no history gaps, steps
numbered once each, results after their steps; every activity scheduled
completed exactly once (lost and doubled counted apart); timers created =
fired; every result backed by a run of that attempt on that input;
retry attempts that never go back; no idempotency key run with two
different inputs (a collision); terminated and suspended instances ending
as they should, a suspended one taking no step until resumed; nothing
stuck; no client errors in the loaders.
Re-executions of a key on the same input (at least once) are counted, not
failed.

It prints a summary table (kills, restarts, restart-to-ready median and
max, instances by kind and status, events, activities, executions,
re-executions, collisions, lost, doubled, stuck) and every failure,
naming the instance, and exits 1 on any failure.`,
		Example: `  cloudbutton soak --kills 1000                      # the campaign: fan-outs of 1,000, sequences of 200
  cloudbutton soak --kills 50 --small --seed 42      # a short soak, repeatable
  cloudbutton soak --kills 20 --keep --dir ./soak    # keep the database and logs
  cloudbutton soak --verify ./soak                   # verify a kept soak again`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var rep *soak.Report
			var err error
			if verifyDir != "" {
				rep, err = soak.Verify(ctx, verifyDir)
			} else {
				if err := soakOptions(cmd, &o, small, z); err != nil {
					return err
				}
				if o.Command, err = soakCommand(); err != nil {
					return err
				}
				o.Progress = cmd.ErrOrStderr()
				rep, err = soak.Run(ctx, o)
			}
			if err != nil {
				return err
			}
			if err := rep.Print(cmd.OutOrStdout()); err != nil {
				return err
			}
			if !rep.OK() {
				hint := ""
				if !rep.Kept {
					hint = fmt.Sprintf(" (--seed %d --keep repeats the schedule and keeps the database and logs)", rep.Seed)
				}
				return fmt.Errorf("soak (seed %d): %d failures%s", rep.Seed, len(rep.Failures), hint)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&o.Seed, "seed", 0, "seed of the kill schedule and of the loaders' instances (default: from the clock; printed)")
	f.IntVar(&o.Kills, "kills", 100, "times the worker is killed and restarted")
	f.StringVar(&o.Dir, "dir", "", "soak directory, empty or new, removed at the end unless --keep (default: a temporary one)")
	f.BoolVar(&o.Keep, "keep", false, "keep the soak directory (database, logs) at the end")
	f.StringVar(&verifyDir, "verify", "", "only verify the soak kept in this directory")
	f.BoolVar(&small, "small", false, "small workloads (fan-outs of 100, sequences of 20, parents of 3, 4 generations: a short soak, as in CI); the size flags override either")
	d := soak.DefaultSizes()
	for _, sf := range sizeFlags {
		f.IntVar(sf.field(&z), sf.name, *sf.field(&d), sf.usage)
	}
	f.IntVar(&o.Loaders, "loaders", 2, "loader processes")
	f.IntVar(&o.InFlight, "in-flight", 4, "live instances per loader")
	f.DurationVar(&o.MaxKillDelay, "max-kill-delay", time.Second, "latest a kill falls after the worker is ready")
	f.DurationVar(&o.Idle, "idle", 60*time.Second, "give up on the live instances after this long without progress (they count as stuck)")
	cmd.AddCommand(&cobra.Command{
		Use:    "child",
		Short:  "A worker or loader process of a soak (started by soak itself)",
		Hidden: true,
		Args:   exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !soak.IsChild() {
				return withCode(ExitUsage, fmt.Errorf("soak child is started by soak, with %s and %s set", soak.EnvRole, soak.EnvDir))
			}
			return soak.RunChild(cmd.Context())
		},
	})
	return cmd
}

// soakOptions completes o from the flags: the seed from the clock unless
// given, the sizes from --small and the size flags given.
func soakOptions(cmd *cobra.Command, o *soak.Options, small bool, z soak.Sizes) error {
	f := cmd.Flags()
	if !f.Changed("seed") {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.Kills < 0 {
		return withCode(ExitUsage, fmt.Errorf("--kills %d is negative", o.Kills))
	}
	for name, v := range map[string]time.Duration{"max-kill-delay": o.MaxKillDelay, "idle": o.Idle} {
		if v <= 0 {
			return withCode(ExitUsage, fmt.Errorf("--%s %s is not positive", name, v))
		}
	}
	for name, v := range map[string]int{"loaders": o.Loaders, "in-flight": o.InFlight} {
		if v <= 0 {
			return withCode(ExitUsage, fmt.Errorf("--%s %d is not positive", name, v))
		}
	}
	o.Sizes = soak.DefaultSizes()
	if small {
		o.Sizes = soak.SmallSizes()
	}
	for _, sf := range sizeFlags {
		if f.Changed(sf.name) {
			*sf.field(&o.Sizes) = *sf.field(&z)
		}
	}
	if err := o.Sizes.Validate(); err != nil {
		return withCode(ExitUsage, err)
	}
	return nil
}

// sizeFlags are the flags of soak.Sizes.
var sizeFlags = []struct {
	name, usage string
	field       func(*soak.Sizes) *int
}{
	{"fanout", "activities of a fan-out", func(z *soak.Sizes) *int { return &z.FanOut }},
	{"sequence", "steps of a sequence", func(z *soak.Sizes) *int { return &z.Sequence }},
	{"events", "events raised to a waiter", func(z *soak.Sizes) *int { return &z.Events }},
	{"children", "sub-orchestrations of a parent", func(z *soak.Sizes) *int { return &z.Children }},
	{"child-size", "steps or activities of each child", func(z *soak.Sizes) *int { return &z.ChildSize }},
	{"generations", "runs of a continue-as-new instance", func(z *soak.Sizes) *int { return &z.Generations }},
	{"timers", "timers of a timers instance", func(z *soak.Sizes) *int { return &z.Timers }},
	{"retries", "flaky activities of a retry instance", func(z *soak.Sizes) *int { return &z.Retries }},
	{"suspend-steps", "steps of a suspended instance before and after its event", func(z *soak.Sizes) *int { return &z.SuspendSteps }},
	{"activity-ms", "how long the activities of sequences, children and suspended instances take (ms)", func(z *soak.Sizes) *int { return &z.SleepMS }},
}
