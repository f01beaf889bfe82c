package soak

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
)

// Report is what a soak found: the campaign's figures, the verifier's
// counts, and every failure.
type Report struct {
	Seed uint64
	Dir  string
	Kept bool // Dir is kept

	// The campaign (zero when only verified).
	Kills            int           // SIGKILLs of the worker
	KillsBeforeReady int           // of which during start-up, open or recovery
	WorkerStarts     int           // worker processes started (the first, and restarts)
	SelfExits        int           // workers that exited without being killed
	ReadyMedian      time.Duration // from the start of a worker process to its ready line
	ReadyMax         time.Duration
	Duration         time.Duration // of the whole soak, for the record (nothing depends on it)

	// Instances counts instances by kind (orchestrator name; children
	// as "NAME (child)") and status.
	Instances map[string]map[client.RuntimeStatus]int

	EventsRaised   int // raise calls that succeeded, from the loaders' logs
	EventsReceived int // events the instances report they received
	EventsCarried  int // events carried by continue-as-new into the last runs
	HistoryEvents  int // events of the (last runs') histories

	ActivitiesScheduled int // ActivityScheduled in the histories
	ActivitiesCompleted int // their completions (ActivityCompleted or ActivityFailed)
	Abandoned           int // scheduled, no completion, in a terminated run (allowed)
	TimersCreated       int
	TimersFired         int
	TimersAbandoned     int // created, not fired, in a terminated run (allowed)

	Executions     int // lines of the execution log
	Reexecutions   int // extra runs of a key with the same input (allowed: at least once)
	MaxRunsOfKey   int
	LaterAttempts  int // runs of attempts after the first: retries, and re-runs after a kill
	TornLines      int // execution log lines that do not parse
	KeyCollisions  int // idempotency keys run with more than one input
	CollidingKinds map[string]int

	Lost                  int // activities scheduled and never completed (live runs)
	Doubled               int // activities, timers or children completed more than once
	CompletionsWithoutRun int // completions with no execution of that attempt and input
	WrongOutputs          int // instances that ended otherwise than expected
	Stuck                 int // instances still live at the end
	SuspendIgnored        int // suspended instances that took a step before their resume
	HistoryErrors         int // gaps, bad task ids, misplaced events
	ClientErrors          int // errors the loaders' client calls returned
	LostStarts            int // instances a loader started that do not exist

	// Failures lists every failure, naming the instance.
	Failures []Failure
}

// Failure is one thing that went wrong.
type Failure struct {
	Instance string // empty for the campaign's own (a worker that exited)
	Kind     string
	What     string
}

func (f Failure) String() string {
	if f.Instance == "" {
		return f.What
	}
	return fmt.Sprintf("%s (%s): %s", f.Instance, f.Kind, f.What)
}

// OK reports whether the soak found nothing wrong.
func (r *Report) OK() bool { return len(r.Failures) == 0 }

func (r *Report) fail(instance, kind, what string) {
	r.Failures = append(r.Failures, Failure{Instance: instance, Kind: kind, What: what})
}

func (r *Report) count(kind string, child bool, st client.RuntimeStatus) {
	if r.Instances == nil {
		r.Instances = map[string]map[client.RuntimeStatus]int{}
	}
	if child {
		kind += " (child)"
	}
	if r.Instances[kind] == nil {
		r.Instances[kind] = map[client.RuntimeStatus]int{}
	}
	r.Instances[kind][st]++
}

var statusOrder = []client.RuntimeStatus{client.StatusCompleted, client.StatusTerminated, client.StatusFailed,
	client.StatusRunning, client.StatusSuspended, client.StatusPending}

// Print writes the summary table, the instances by kind and status, and
// the failures, one line each.
func (r *Report) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	row("seed", "%d", r.Seed)
	row("kills", "%d (%d during open or recovery)", r.Kills, r.KillsBeforeReady)
	row("restarts", "%d (%d worker starts, %d exited by themselves)", max(r.WorkerStarts-1, 0), r.WorkerStarts, r.SelfExits)
	row("restart to ready", "median %s, max %s", r.ReadyMedian.Round(time.Millisecond), r.ReadyMax.Round(time.Millisecond))
	row("duration", "%s", r.Duration.Round(time.Second))
	total, children := 0, 0
	for k, m := range r.Instances {
		for _, n := range m {
			total += n
			if strings.HasSuffix(k, " (child)") {
				children += n
			}
		}
	}
	row("instances", "%d (%d top-level, %d children)", total, total-children, children)
	row("history events", "%d (last runs)", r.HistoryEvents)
	row("events raised / received", "%d / %d (%d carried by continue-as-new into a last run)", r.EventsRaised, r.EventsReceived, r.EventsCarried)
	row("activities scheduled / completed", "%d / %d (%d abandoned by terminate)", r.ActivitiesScheduled, r.ActivitiesCompleted, r.Abandoned)
	row("timers created / fired", "%d / %d (%d abandoned by terminate)", r.TimersCreated, r.TimersFired, r.TimersAbandoned)
	row("executions", "%d (%d re-executions of a key, at most %d runs of one; %d later attempts: retries, re-runs after a kill)", r.Executions, r.Reexecutions, r.MaxRunsOfKey, r.LaterAttempts)
	row("key collisions", "%d%s", r.KeyCollisions, kinds(r.CollidingKinds))
	row("lost", "%d", r.Lost)
	row("doubled", "%d", r.Doubled)
	row("completions without a run", "%d", r.CompletionsWithoutRun)
	row("wrong outputs", "%d", r.WrongOutputs)
	row("stuck", "%d", r.Stuck)
	row("steps while suspended", "%d", r.SuspendIgnored)
	row("history errors", "%d", r.HistoryErrors)
	row("lost starts", "%d", r.LostStarts)
	row("client errors", "%d", r.ClientErrors)
	row("torn log lines", "%d", r.TornLines)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "kind\t")
	for _, s := range statusOrder {
		fmt.Fprintf(tw, "%s\t", s)
	}
	fmt.Fprintln(tw)
	for _, k := range slices.Sorted(maps.Keys(r.Instances)) {
		fmt.Fprintf(tw, "%s\t", k)
		for _, s := range statusOrder {
			fmt.Fprintf(tw, "%d\t", r.Instances[k][s])
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if r.OK() {
		fmt.Fprintln(w, "PASS: nothing lost, doubled, collided, wrong or stuck")
	} else {
		fmt.Fprintf(w, "FAIL: %d failures\n", len(r.Failures))
		for _, f := range r.Failures {
			fmt.Fprintln(w, "  "+f.String())
		}
	}
	if r.Kept {
		fmt.Fprintln(w, "kept:", r.Dir)
	}
	return nil
}

func kinds(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
