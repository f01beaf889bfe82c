package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/internal/replay"
)

// Verify checks a soak directory kept by an earlier Run (Options.Keep),
// with no worker running on it: the same checks Run makes at its end.
// The report has no campaign figures.
func Verify(ctx context.Context, dir string) (*Report, error) {
	if _, err := readConfig(dir); err != nil {
		return nil, fmt.Errorf("%w (not a soak directory?)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, dbFile)); err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := embedded.Open(ctx, filepath.Join(dir, dbFile), embedded.Options{Logger: quiet})
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	rep := &Report{Dir: dir, Kept: true}
	if err := verify(ctx, dir, eng, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// loaderView is what the loaders' logs say they did.
type loaderView struct {
	starts map[string]record         // by instance: the start
	raised map[string][]int          // by instance: the events raised, in order
	ops    map[string]map[string]int // by instance: terminate, suspend, resume
	// suspended: by instance, from when the suspend call returned to when
	// the resume call began.
	suspended map[string][2]time.Time
}

// runKey identifies the runs of one attempt on one input.
type runKey struct {
	instance string
	task     int64
	attempt  int
	digest   string
}

// execView indexes the execution log.
type execView struct {
	runs map[runKey]int
	// byKey: idempotency key -> input digest -> runs.
	byKey map[string]map[string]int
	// attempts: (instance, task, input) -> the attempts run, in order.
	attempts map[runKey][]int
	// byInstance: the runs of each instance, in order.
	byInstance map[string][]execution
}

// verify reads the loaders' logs, the execution log and, through the
// client, every instance's status and exported history, and adds to rep
// what it finds.
func verify(ctx context.Context, dir string, c client.Client, rep *Report) error {
	cfg, err := readConfig(dir)
	if err != nil {
		return err
	}
	rep.Seed = cfg.Seed
	lv, err := readLoaders(dir, cfg, rep)
	if err != nil {
		return err
	}
	ev, err := readExecView(dir, rep)
	if err != nil {
		return err
	}
	sts, err := c.List(ctx, client.Filter{})
	if err != nil {
		return fmt.Errorf("soak: listing the instances: %w", err)
	}
	byID := map[string]*client.Status{}
	for _, st := range sts {
		byID[st.InstanceID] = st
	}
	for _, id := range slices.Sorted(maps.Keys(lv.starts)) {
		if byID[id] == nil {
			rep.LostStarts++
			rep.fail(id, lv.starts[id].Kind, "started by a loader (the start returned no error), but the instance does not exist")
		}
	}
	slices.SortFunc(sts, func(a, b *client.Status) int { return strings.Compare(a.InstanceID, b.InstanceID) })
	for _, st := range sts {
		if err := verifyInstance(ctx, c, st, byID, lv, ev, rep); err != nil {
			return err
		}
	}
	collisions(ev, byID, rep)
	return nil
}

func readLoaders(dir string, cfg config, rep *Report) (*loaderView, error) {
	lv := &loaderView{starts: map[string]record{}, raised: map[string][]int{}, ops: map[string]map[string]int{},
		suspended: map[string][2]time.Time{}}
	errs := map[string]int{}
	var order []string
	for i := range cfg.Loaders {
		rs, err := readRecords(filepath.Join(dir, loaderLog(i)))
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			switch r.Op {
			case opStart:
				lv.starts[r.ID] = r
			case opRaise:
				lv.raised[r.ID] = append(lv.raised[r.ID], r.Seq)
				rep.EventsRaised++
			case opTerminate, opSuspend, opResume:
				if lv.ops[r.ID] == nil {
					lv.ops[r.ID] = map[string]int{}
				}
				lv.ops[r.ID][r.Op]++
				w := lv.suspended[r.ID]
				switch r.Op {
				case opSuspend:
					w[0] = r.At
				case opResume:
					w[1] = r.Began
				}
				lv.suspended[r.ID] = w
			case opError:
				rep.ClientErrors++
				msg := fmt.Sprintf("loader %d: %s %s: %s", i, r.Of, r.ID, r.Err)
				if errs[msg] == 0 {
					order = append(order, msg)
				}
				errs[msg]++
			}
		}
	}
	for _, msg := range order {
		suffix := ""
		if errs[msg] > 1 {
			suffix = fmt.Sprintf(" (%d times)", errs[msg])
		}
		rep.fail("", "", "client error: "+msg+suffix)
	}
	return lv, nil
}

func readExecView(dir string, rep *Report) (*execView, error) {
	execs, torn, err := readExecutions(filepath.Join(dir, execFile))
	if err != nil {
		return nil, err
	}
	rep.Executions, rep.TornLines = len(execs), torn
	ev := &execView{runs: map[runKey]int{}, byKey: map[string]map[string]int{}, attempts: map[runKey][]int{},
		byInstance: map[string][]execution{}}
	for _, e := range execs {
		k := runKey{e.Instance, e.Task, e.Attempt, e.Digest}
		ev.runs[k]++
		if ev.runs[k] > 1 {
			rep.Reexecutions++
		} else if e.Attempt > 1 {
			rep.LaterAttempts++
		}
		rep.MaxRunsOfKey = max(rep.MaxRunsOfKey, ev.runs[k])
		if ev.byKey[e.Key] == nil {
			ev.byKey[e.Key] = map[string]int{}
		}
		ev.byKey[e.Key][e.Digest]++
		t := runKey{instance: e.Instance, task: e.Task, digest: e.Digest}
		ev.attempts[t] = append(ev.attempts[t], e.Attempt)
		ev.byInstance[e.Instance] = append(ev.byInstance[e.Instance], e)
	}
	return ev, nil
}

// collisions reports the idempotency keys run with more than one input,
// by instance.
func collisions(ev *execView, byID map[string]*client.Status, rep *Report) {
	type hit struct {
		keys    int
		example string
		inputs  int
	}
	hits := map[string]*hit{}
	for key, digests := range ev.byKey {
		if len(digests) < 2 {
			continue
		}
		rep.KeyCollisions++
		inst := instanceOfKey(key, byID)
		h := hits[inst]
		if h == nil {
			h = &hit{}
			hits[inst] = h
		}
		h.keys++
		if len(digests) > h.inputs || (len(digests) == h.inputs && key < h.example) {
			h.example, h.inputs = key, len(digests)
		}
	}
	for _, inst := range slices.Sorted(maps.Keys(hits)) {
		h := hits[inst]
		kind := ""
		if st := byID[inst]; st != nil {
			kind = st.Name
		}
		if rep.CollidingKinds == nil {
			rep.CollidingKinds = map[string]int{}
		}
		rep.CollidingKinds[kind] += h.keys
		rep.fail(inst, kind, fmt.Sprintf("idempotency keys reused with another input: %d keys (%s covered %d different inputs)", h.keys, h.example, h.inputs))
	}
}

// instanceOfKey finds the instance of an idempotency key: the longest
// instance id that prefixes it with a "/".
func instanceOfKey(key string, byID map[string]*client.Status) string {
	best := ""
	for i := len(key) - 1; i > 0; i-- {
		if key[i] == '/' {
			if _, ok := byID[key[:i]]; ok {
				best = key[:i]
				break
			}
		}
	}
	if best == "" {
		if i := strings.IndexByte(key, '/'); i > 0 {
			return key[:i]
		}
		return key
	}
	return best
}

func verifyInstance(ctx context.Context, c client.Client, st *client.Status, byID map[string]*client.Status, lv *loaderView, ev *execView, rep *Report) error {
	id, kind := st.InstanceID, st.Name
	fail := func(format string, args ...any) { rep.fail(id, kind, fmt.Sprintf(format, args...)) }
	child := st.ParentInstanceID != ""
	rep.count(kind, child, st.RuntimeStatus)
	if _, ok := lv.starts[id]; !ok && !child {
		fail("no loader started it")
	}
	if child && byID[st.ParentInstanceID] == nil {
		fail("its parent %q does not exist", st.ParentInstanceID)
	}
	var spec Spec
	if err := json.Unmarshal(st.Input, &spec); err != nil {
		fail("input %q does not decode: %v", st.Input, err)
	}
	raised := lv.raised[id]
	h, herr := exportHistory(ctx, c, id)
	if herr != nil {
		rep.HistoryErrors++
		fail("%v", herr)
	}
	// The outcome.
	exp := expect(kind, spec, raised)
	var out Result
	switch {
	case !st.RuntimeStatus.Terminal():
		rep.Stuck++
		fail("stuck: %s at %d of %d activities; last event %s%s", st.RuntimeStatus, st.ActivitiesDone, st.ActivitiesTotal, lastEvent(h), blocked(st))
	case st.RuntimeStatus != exp.status:
		rep.WrongOutputs++
		fail("ended %s, want %s%s", st.RuntimeStatus, exp.status, failureText(st))
	case exp.result != nil:
		if err := json.Unmarshal(st.Output, &out); err != nil {
			rep.WrongOutputs++
			fail("output %q does not decode: %v", st.Output, err)
		} else if !sameResult(out, *exp.result) {
			rep.WrongOutputs++
			fail("output %s, want %s", show(out), show(*exp.result))
		}
		rep.EventsReceived += len(out.Events)
	}
	// What the loader did to it.
	switch kind {
	case Waiter.Name(), ContinueAsNew.Name():
		if len(raised) != spec.N || !slices.Equal(raised, seqs(spec.N)) {
			fail("the loader raised %v, not the %d events 0..%d (see its client errors)", raised, spec.N, spec.N-1)
		}
	case Suspend.Name():
		if ops := lv.ops[id]; ops[opSuspend] != 1 || ops[opResume] != 1 {
			fail("the loader's suspend and resume did not both succeed once: %v (see its client errors)", ops)
		} else if herr == nil {
			whileSuspended(id, ev.byInstance[id], lv.suspended[id], rep, fail)
		}
	case Terminate.Name():
		if lv.ops[id][opTerminate] != 1 {
			fail("the loader's terminate did not succeed (see its client errors)")
		}
	}
	if herr == nil {
		checkHistory(st, h, ev, rep, fail)
	}
	return nil
}

// whileSuspended fails an instance of the suspend workload that took a
// step while suspended, proven by the execution log: every run of some
// step j and every run of step j+1 (which the result of j schedules)
// started after the suspend call returned and before the resume call
// began. Then the result of j was applied after the suspend (it came from
// a run that started after it) and before the resume (step j+1 ran
// before it, and a step runs only once the step that schedules it was
// applied). History times cannot tell: an event's time is that of the
// event that caused it (a raise, a completion), not of its step. One
// clock is assumed (the processes run on one machine).
func whileSuspended(id string, runs []execution, w [2]time.Time, rep *Report, fail func(string, ...any)) {
	in := func(t time.Time) bool { return t.After(w[0]) && t.Before(w[1]) }
	all := map[int64]bool{} // step -> every run in the window
	for _, e := range runs {
		ok, seen := all[e.Task]
		all[e.Task] = in(e.At) && (ok || !seen)
	}
	for _, j := range slices.Sorted(maps.Keys(all)) {
		if all[j] && all[j+1] {
			rep.SuspendIgnored++
			fail("a step ran while suspended: steps %d and %d both ran between the suspend (%s) and the resume (%s)",
				j, j+1, w[0].Format("15:04:05.000000"), w[1].Format("15:04:05.000000"))
			return
		}
	}
}

func seqs(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// exportHistory reads an instance's history through the client, as
// exported (the verifier checks its beginning itself).
func exportHistory(ctx context.Context, c client.Client, id string) (replay.History, error) {
	var buf bytes.Buffer
	var h replay.History
	if err := c.ExportHistory(ctx, id, &buf); err != nil {
		return h, fmt.Errorf("history export: %w", err)
	}
	if err := json.Unmarshal(buf.Bytes(), &h); err != nil {
		return h, fmt.Errorf("history export does not decode: %w", err)
	}
	if h.Format != replay.HistoryFormat {
		return h, fmt.Errorf("history export has format %q, not %q", h.Format, replay.HistoryFormat)
	}
	return h, nil
}

func lastEvent(h replay.History) string {
	if len(h.Events) == 0 {
		return "(none)"
	}
	e := h.Events[len(h.Events)-1]
	s := fmt.Sprintf("#%d %s", e.Index, e.Type)
	if e.Name != "" {
		s += fmt.Sprintf(" %q", e.Name)
	}
	if e.TaskID != 0 {
		s += fmt.Sprintf(" task %d", e.TaskID)
	}
	return s
}

func blocked(st *client.Status) string {
	if st.Blocked == "" {
		return ""
	}
	return "; blocked: " + st.Blocked
}

func failureText(st *client.Status) string {
	if st.Failure == nil {
		return ""
	}
	return fmt.Sprintf(" (%s: %s)", st.Failure.Type, st.Failure.Message)
}

// sameResult compares results, an empty list being no list.
func sameResult(a, b Result) bool {
	if len(a.Events) == 0 {
		a.Events = nil
	}
	if len(b.Events) == 0 {
		b.Events = nil
	}
	return reflect.DeepEqual(a, b)
}

func show(r Result) string {
	data, _ := json.Marshal(r)
	return string(data)
}
