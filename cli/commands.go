package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cloudbutton/cloudbutton/client"
)

// withEngine opens the engine for one command and closes it after.
func withEngine(cmd *cobra.Command, cfg *engineConfig, create bool, fn func(ctx context.Context, e engine) error) error {
	ctx := cmd.Context()
	e, err := cfg.open(ctx, create, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer e.Close()
	return fn(ctx, e)
}

func jsonArg(what, s string) ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	if !json.Valid([]byte(s)) {
		return nil, withCode(ExitUsage, fmt.Errorf("%s is not valid JSON: %q (quote strings: '\"text\"')", what, s))
	}
	return []byte(s), nil
}

func newStartCmd(cfg *engineConfig) *cobra.Command {
	var id, reuse, dedup, debounce string
	var wait, anyName bool
	var timeout, dedupWindow, debounceWindow time.Duration
	cmd := &cobra.Command{
		Use:   "start NAME [INPUT-JSON | @FILE | -]",
		Short: "Start an orchestration",
		Long: `Start the orchestrator registered as NAME with a JSON input, and print the
instance id. A worker that registers NAME runs it (see 'cloudbutton worker').
The input is inline JSON, @FILE or --input-file FILE (for inputs over the
128 KiB an argument may hold), or - for stdin.`,
		Example: `  cloudbutton start order '{"item":"book"}' --id order-1
  cloudbutton start fanout 100 --wait
  cloudbutton start order --input-file order.json
  cloudbutton start charge '{"order":7}' --dedup order-7 --dedup-window 1h    # the same instance for an hour
  cloudbutton start reindex '"tenant-3"' --debounce tenant-3 --debounce-window 30s # one run, 30 s after the last start`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			input, err := jsonInput(cmd, "INPUT-JSON", args, 1, "input-file")
			if err != nil {
				return err
			}
			policy, err := reusePolicy(reuse)
			if err != nil {
				return err
			}
			opts, err := startKeyOptions(dedup, dedupWindow, debounce, debounceWindow)
			if err != nil {
				return err
			}
			opts.InstanceID, opts.Reuse = id, policy
			cfg.checkNames = !anyName
			return withEngine(cmd, cfg, true, func(ctx context.Context, e engine) error {
				iid, err := e.StartRaw(ctx, args[0], input, opts)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), iid)
				if !wait {
					return nil
				}
				return waitAndPrint(cmd, e, iid, timeout, false)
			})
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "instance id (default: random)")
	cmd.Flags().BoolVar(&anyName, "any-name", false, "start NAME even if the last worker does not register it (embedded; it waits, Blocked, for a worker that does)")
	cmd.Flags().StringVar(&reuse, "reuse", "finished", "if the id exists: finished (replace a finished instance), reject, or terminate (replace a running one)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the result and print it")
	cmd.Flags().Var(nonNegative{&timeout}, "timeout", "with --wait: give up after this long (exit 5)")
	cmd.Flags().String("input-file", "", "read the input JSON from this file")
	cmd.Flags().StringVar(&dedup, "dedup", "", "deduplication key: within --dedup-window of the first start with it, print that instance's id and create nothing")
	cmd.Flags().DurationVar(&dedupWindow, "dedup-window", 0, "with --dedup: how long the key holds")
	cmd.Flags().StringVar(&debounce, "debounce", "", "debounce key: starts with it within --debounce-window of each other give one run, with the last input")
	cmd.Flags().DurationVar(&debounceWindow, "debounce-window", 0, "with --debounce: the run starts this long after the last start")
	return cmd
}

// startKeyOptions reads --dedup and --debounce with their windows.
func startKeyOptions(dedup string, dedupWindow time.Duration, debounce string, debounceWindow time.Duration) (client.StartOptions, error) {
	var opts []client.StartOption
	switch {
	case dedup == "" && dedupWindow != 0:
		return client.StartOptions{}, withCode(ExitUsage, errors.New("--dedup-window without --dedup KEY"))
	case debounce == "" && debounceWindow != 0:
		return client.StartOptions{}, withCode(ExitUsage, errors.New("--debounce-window without --debounce KEY"))
	case dedup != "":
		opts = append(opts, client.WithDedup(dedup, dedupWindow))
	}
	if debounce != "" {
		opts = append(opts, client.WithDebounce(debounce, debounceWindow))
	}
	o, err := client.NewStartOptions(opts...)
	if err != nil {
		return client.StartOptions{}, withCode(ExitUsage, err)
	}
	return o, nil
}

func reusePolicy(s string) (client.ReusePolicy, error) {
	switch s {
	case "finished", "":
		return client.ReuseIfFinished, nil
	case "reject":
		return client.RejectDuplicate, nil
	case "terminate":
		return client.TerminateIfRunning, nil
	}
	return 0, withCode(ExitUsage, fmt.Errorf("--reuse %q: want finished, reject or terminate", s))
}

func newStatusCmd(cfg *engineConfig) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show an instance's status, output, custom status, progress and billed usage, and why a live one is not moving",
		Long: `Show an instance's status, output, custom status, progress and billed
usage. For a live instance it says what it waits on (client.Explain): an
event, an activity's next attempt and its last failure, a timer, a
sub-orchestration (and what that one waits on), a worker, a worker that
knows its orchestrator, or a Resume. --json adds it as "explanation".`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withEngine(cmd, cfg, false, func(ctx context.Context, e engine) error {
				st, err := e.Status(ctx, args[0])
				if err != nil {
					return err
				}
				x, err := explainLive(ctx, e, st)
				if err != nil {
					return err
				}
				if asJSON {
					m := statusJSON(st)
					// null: the engine cannot tell (see client.Status).
					m["subOrchestrationUsage"], m["totalUsage"] = st.SubOrchestrationUsage, st.TotalUsage()
					if x != nil {
						m["explanation"] = x
					}
					return printJSON(cmd.OutOrStdout(), m)
				}
				printStatus(cmd.OutOrStdout(), st)
				printExplanation(cmd.OutOrStdout(), x)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// statusJSON renders payloads as JSON values rather than base64.
func statusJSON(st *client.Status) map[string]any {
	raw := func(b []byte) any {
		if len(b) == 0 {
			return nil
		}
		if json.Valid(b) {
			return json.RawMessage(b)
		}
		return b
	}
	m := map[string]any{
		"instanceId": st.InstanceID, "name": st.Name, "runtimeStatus": st.RuntimeStatus,
		"input": raw(st.Input), "output": raw(st.Output), "customStatus": raw(st.CustomStatus),
		"createdAt": st.CreatedAt, "updatedAt": st.UpdatedAt,
		"activitiesDone": st.ActivitiesDone, "activitiesTotal": st.ActivitiesTotal,
		"usage": st.Usage, // null: the engine cannot tell
	}
	if st.Failure != nil {
		m["failure"] = st.Failure
	}
	if st.ParentInstanceID != "" {
		m["parentInstanceId"] = st.ParentInstanceID
	}
	if !st.CompletedAt.IsZero() {
		m["completedAt"] = st.CompletedAt
	}
	return m
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printStatus(w io.Writer, st *client.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("Instance", printable(st.InstanceID))
	row("Orchestrator", printable(st.Name))
	row("Status", string(st.RuntimeStatus))
	row("Waiting", st.Blocked)
	row("Parent", printable(st.ParentInstanceID))
	row("Created", st.CreatedAt.Local().Format(time.RFC3339))
	row("Updated", st.UpdatedAt.Local().Format(time.RFC3339))
	if !st.CompletedAt.IsZero() {
		row("Completed", st.CompletedAt.Local().Format(time.RFC3339)+" (took "+st.CompletedAt.Sub(st.CreatedAt).Round(time.Millisecond).String()+")")
	}
	row("Activities", fmt.Sprintf("%d of %d done", st.ActivitiesDone, st.ActivitiesTotal))
	row("Input", clip(string(st.Input)))
	row("Output", clip(string(st.Output)))
	row("Custom status", clip(string(st.CustomStatus)))
	if st.Failure != nil {
		row("Failure", st.Failure.Type+": "+st.Failure.Message)
	}
	row("Usage", usageText(st.Usage))
	switch sub := st.SubOrchestrationUsage; {
	case sub == nil:
		row("With children", "not available")
	case !sub.IsZero():
		row("With children", usageText(st.TotalUsage()))
	}
	tw.Flush()
}

// usageText renders a billed usage; nil is one the engine cannot tell.
func usageText(u *client.Usage) string {
	switch {
	case u == nil:
		return "not available"
	case u.IsZero():
		return "none billed"
	}
	return u.String()
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

func newListCmd(cfg *engineConfig) *cobra.Command {
	var name, statuses string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List instances, newest first",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := client.Filter{Name: name, Limit: limit}
			for _, s := range strings.Split(statuses, ",") {
				if s = strings.TrimSpace(s); s != "" {
					f.Statuses = append(f.Statuses, client.RuntimeStatus(strings.ToUpper(s[:1])+strings.ToLower(s[1:])))
				}
			}
			return withEngine(cmd, cfg, false, func(ctx context.Context, e engine) error {
				sts, err := e.List(ctx, f)
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]map[string]any, len(sts))
					for i, st := range sts {
						out[i] = statusJSON(st)
					}
					return printJSON(cmd.OutOrStdout(), out)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "INSTANCE\tORCHESTRATOR\tSTATUS\tCREATED\tACTIVITIES")
				for _, st := range sts {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\n", printable(st.InstanceID), printable(st.Name), st.RuntimeStatus,
						st.CreatedAt.Local().Format(time.DateTime), st.ActivitiesDone, st.ActivitiesTotal)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "only instances of this orchestrator")
	cmd.Flags().StringVar(&statuses, "status", "", "only these statuses, comma-separated (running,completed,failed,terminated,pending,suspended)")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newWaitCmd(cfg *engineConfig) *cobra.Command {
	var timeout time.Duration
	var noProgress bool
	cmd := &cobra.Command{
		Use:   "wait ID",
		Short: "Wait for an instance to finish, with a progress bar, and print its output",
		Long: `Wait for an instance to finish and print its output. While it runs, a
progress bar shows activities completed out of scheduled. Exit code 4 if it
ended Failed or Terminated, 5 on --timeout.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withEngine(cmd, cfg, false, func(ctx context.Context, e engine) error {
				return waitAndPrint(cmd, e, args[0], timeout, !noProgress)
			})
		},
	}
	cmd.Flags().Var(nonNegative{&timeout}, "timeout", "give up after this long (exit 5)")
	cmd.Flags().BoolVar(&noProgress, "no-progress", false, "no progress bar")
	return cmd
}

func waitAndPrint(cmd *cobra.Command, e engine, id string, timeout time.Duration, progress bool) error {
	ctx := cmd.Context()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var st *client.Status
	var err error
	if progress {
		st, err = waitWithBar(ctx, cmd.ErrOrStderr(), e, id)
	} else {
		st, err = e.Wait(ctx, id)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return withCode(ExitTimeout, fmt.Errorf("%q still running after %s", id, timeout))
		}
		return err
	}
	if st.RuntimeStatus != client.StatusCompleted {
		return withCode(ExitFailed, &client.InstanceError{Status: st})
	}
	fmt.Fprintln(cmd.OutOrStdout(), string(st.Output))
	return nil
}

// waitWithBar polls the status and draws activities done / scheduled.
func waitWithBar(ctx context.Context, w io.Writer, e engine, id string) (*client.Status, error) {
	bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(id),
		progressbar.OptionSetVisibility(isTerminal(w)), // no redraw spam in logs and pipes
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
	defer bar.Finish()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := e.Status(ctx, id)
		if err != nil {
			return nil, err
		}
		if st.ActivitiesTotal > 0 {
			bar.ChangeMax(st.ActivitiesTotal)
			_ = bar.Set(st.ActivitiesDone)
		}
		if st.RuntimeStatus.Terminal() {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-tick.C:
		}
	}
}

func newRaiseCmd(cfg *engineConfig) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "raise ID EVENT [PAYLOAD-JSON | @FILE | -]",
		Short: "Raise an external event for an instance",
		Long: `Raise an external event for an instance. The payload is inline JSON, @FILE
or --payload-file FILE, or - for stdin.`,
		Example: `  cloudbutton raise order-1 approval '{"approved":true}'
  cloudbutton raise order-1 approval @approval.json`,
		Args: rangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			payload, err := jsonInput(cmd, "PAYLOAD-JSON", args, 2, "payload-file")
			if err != nil {
				return err
			}
			return withEngine(cmd, cfg, false, func(ctx context.Context, e engine) error {
				return e.RaiseEventRaw(ctx, args[0], args[1], payload)
			})
		},
	}
	cmd.Flags().String("payload-file", "", "read the payload JSON from this file")
	return cmd
}

func newTerminateCmd(cfg *engineConfig) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "terminate ID",
		Short: "Terminate an instance and its sub-orchestrations (the orchestrator may clean up first)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withEngine(cmd, cfg, false, func(ctx context.Context, e engine) error {
				return e.Terminate(ctx, args[0], reason)
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "terminated from the CLI", "reason recorded in history")
	return cmd
}

func newSuspendCmd(cfg *engineConfig) *cobra.Command {
	return &cobra.Command{Use: "suspend ID", Short: "Pause an instance; events queue until resume", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withEngine(cmd, cfg, false, func(ctx context.Context, e engine) error { return e.Suspend(ctx, args[0], "CLI") })
		}}
}

func newResumeCmd(cfg *engineConfig) *cobra.Command {
	return &cobra.Command{Use: "resume ID", Short: "Resume a suspended instance", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withEngine(cmd, cfg, false, func(ctx context.Context, e engine) error { return e.Resume(ctx, args[0], "CLI") })
		}}
}

func newPurgeCmd(cfg *engineConfig) *cobra.Command {
	return &cobra.Command{Use: "purge ID", Short: "Delete a finished instance and its history", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withEngine(cmd, cfg, false, func(ctx context.Context, e engine) error { return e.Purge(ctx, args[0]) })
		}}
}

// isTerminal reports whether w is a terminal (progress bars draw only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
