package analytics

import (
	"errors"
	"fmt"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// ErrTooManyFailures is matched (errors.Is) by a *MapError: more items
// failed than the failure policy tolerates.
var ErrTooManyFailures = errors.New("analytics: too many failed items")

// ItemFailure reports one item whose activity call failed after its
// retries.
type ItemFailure struct {
	// Index is the item's position in the input.
	Index int `json:"index"`
	// Type is the failure type (an activity.Error type, "Panic",
	// "Timeout", ...).
	Type string `json:"type"`
	// Message is the error text.
	Message string `json:"message"`
}

// String describes the failure with its item index.
func (f ItemFailure) String() string {
	return fmt.Sprintf("item %d: %s: %s", f.Index, f.Type, f.Message)
}

// MapError reports a map whose failures exceeded its policy. It matches
// ErrTooManyFailures.
type MapError struct {
	// Activity is the mapped activity's name.
	Activity string
	// Total is the number of items.
	Total int
	// Tolerated is how many failures the policy allowed.
	Tolerated int
	// Failed lists the failures seen when the map stopped, by index.
	Failed []ItemFailure
}

// Error lists the failed items.
func (e *MapError) Error() string {
	msg := fmt.Sprintf("analytics: map of activity %q: %d of %d items failed, over the %d tolerated",
		e.Activity, len(e.Failed), e.Total, e.Tolerated)
	if len(e.Failed) > 0 {
		msg += "; first: " + e.Failed[0].String()
	}
	return msg
}

// Is matches ErrTooManyFailures.
func (e *MapError) Is(target error) bool { return target == ErrTooManyFailures }

// MapResult is the outcome of Map.
type MapResult[Out any] struct {
	// Outputs holds each item's result, in input order; a failed item's
	// slot holds the zero value.
	Outputs []Out `json:"outputs"`
	// Failed lists the failed items, by index.
	Failed []ItemFailure `json:"failed,omitempty"`
}

// OK reports whether item i succeeded.
func (r MapResult[Out]) OK(i int) bool {
	for _, f := range r.Failed {
		if f.Index == i {
			return false
		}
	}
	return i >= 0 && i < len(r.Outputs)
}

// itemFailure turns an Await error into an ItemFailure, or returns the
// error itself when it is not about the item (the orchestration was
// canceled).
func itemFailure(i int, err error) (ItemFailure, error) {
	if errors.Is(err, orchestration.ErrCanceled) {
		return ItemFailure{}, err
	}
	var ae *orchestration.ActivityError
	var se *orchestration.SubOrchestrationError
	var de *codec.DecodeError
	var appErr *activity.Error
	switch {
	case errors.As(err, &ae):
		return ItemFailure{Index: i, Type: ae.Type, Message: ae.Message}, nil
	case errors.As(err, &se):
		return ItemFailure{Index: i, Type: se.Type, Message: se.Message}, nil
	case errors.As(err, &de):
		return ItemFailure{Index: i, Type: "DecodeError", Message: de.Error()}, nil
	case errors.As(err, &appErr):
		return ItemFailure{Index: i, Type: appErr.Type, Message: appErr.Message}, nil
	}
	return ItemFailure{Index: i, Type: "Error", Message: err.Error()}, nil
}

// window runs start(i) for i in [0, n) with at most limit futures
// pending (limit <= 0: no bound) and calls done(i, v, err) as each
// finishes, in a deterministic order. done returning an error stops the
// loop: nothing more is started and the error is returned. With no bound,
// futures are awaited in index order, so the loop costs O(n).
func window[T any](ctx orchestration.Context, n, limit int, start func(i int) orchestration.Future[T], done func(i int, v T, err error) error) error {
	if limit <= 0 || limit > n {
		limit = n
	}
	fs := make([]orchestration.Future[T], n)
	var inflight []int
	next := 0
	for next < n || len(inflight) > 0 {
		for next < n && len(inflight) < limit {
			fs[next] = start(next)
			inflight = append(inflight, next)
			next++
		}
		if limit == n || fs[inflight[0]].Ready() {
			// Await the oldest: with no bound, in-order waiting is as
			// fast as any and costs O(1) per item.
			if _, err := fs[inflight[0]].Await(ctx); errors.Is(err, orchestration.ErrCanceled) && !fs[inflight[0]].Ready() {
				return err
			}
		} else {
			ws := make([]orchestration.Awaitable, len(inflight))
			for j, idx := range inflight {
				ws[j] = fs[idx]
			}
			if _, err := orchestration.Any(ctx, ws...); err != nil {
				return err
			}
		}
		kept := inflight[:0]
		for j, idx := range inflight {
			if !fs[idx].Ready() {
				if limit == n {
					// In-order mode: everything before j was harvested;
					// the rest waits for the next round, so each round
					// costs O(items finished).
					kept = inflight[j:]
					break
				}
				kept = append(kept, idx)
				continue
			}
			v, err := fs[idx].Await(ctx)
			fs[idx] = orchestration.Future[T]{}
			if derr := done(idx, v, err); derr != nil {
				return derr
			}
		}
		inflight = kept
	}
	return nil
}

// Map calls activity act once per item, with the concurrency bound and
// failure policy of opts, and returns every output in input order. It
// runs in orchestrator code and is deterministic.
//
// Under the default policy (FailFast) the first failure ends the map with
// a *MapError; with TolerateFailures or TolerateFailureRate, failures up
// to the bound are reported in MapResult.Failed, and one more ends the map
// with a *MapError listing them. When the map stops early, calls already
// started keep running but their results are ignored.
//
// The activity calls start from the default call options of ctx
// (orchestration.WithCallOptions), in sub-orchestrations too; WithRetry
// and WithStartToCloseTimeout override them. An invalid option, or an
// invalid default of ctx, is an error before anything is scheduled.
func Map[In, Out any](ctx orchestration.Context, act *activity.Activity[In, Out], items []In, opts ...Option) (MapResult[Out], error) {
	if act == nil {
		return MapResult[Out]{}, errors.New("analytics.Map: nil activity")
	}
	cfg, err := buildConfig(ctx, fmt.Sprintf("analytics.Map(%q)", act.Name()), opts)
	if err != nil {
		return MapResult[Out]{}, err
	}
	return runMap[In, Out](ctx, act.Name(), items, cfg, len(items))
}

// runMap maps items, splitting into sub-orchestrations per cfg.MaxItems.
// policyTotal is the item count the failure policy is computed on.
func runMap[In, Out any](ctx orchestration.Context, name string, items []In, cfg config, policyTotal int) (MapResult[Out], error) {
	res := MapResult[Out]{Outputs: make([]Out, len(items))}
	tolerated := cfg.allowed(policyTotal)
	prog := Progress{Total: len(items)}
	report := func() {
		if cfg.progress != nil {
			cfg.progress(ctx, prog)
		}
	}
	fail := func(f ItemFailure) error {
		res.Failed = append(res.Failed, f)
		prog.Failed++
		if len(res.Failed) > tolerated {
			sortFailures(res.Failed)
			return &MapError{Activity: name, Total: policyTotal, Tolerated: tolerated, Failed: res.Failed}
		}
		return nil
	}
	if groups := split(len(items), cfg.MaxItems); groups != nil {
		childCfg := cfg
		childCfg.TolerateN, childCfg.TolerateFraction = len(items), 0 // the parent applies the policy
		child := mapOrchestratorName(name)
		err := window(ctx, len(groups), childWindow(cfg, groups), func(g int) orchestration.Future[MapResult[Out]] {
			return orchestration.CallSubNamed[mapJob[In], MapResult[Out]](ctx, child, mapJob[In]{Items: items[groups[g][0]:groups[g][1]], Config: childCfg})
		}, func(g int, r MapResult[Out], err error) error {
			lo, hi := groups[g][0], groups[g][1]
			if err != nil {
				for i := lo; i < hi; i++ {
					f, ferr := itemFailure(i, err)
					if ferr != nil {
						return ferr
					}
					if ferr := fail(f); ferr != nil {
						return ferr
					}
				}
			} else {
				copy(res.Outputs[lo:hi], r.Outputs)
				for _, f := range r.Failed {
					f.Index += lo
					if ferr := fail(f); ferr != nil {
						return ferr
					}
				}
			}
			prog.Done += hi - lo
			report()
			return nil
		})
		sortFailures(res.Failed)
		return res, err
	}
	callOpts := cfg.callOptions()
	err := window(ctx, len(items), cfg.MaxInFlight, func(i int) orchestration.Future[Out] {
		return orchestration.CallNamed[In, Out](ctx, name, items[i], callOpts...)
	}, func(i int, v Out, err error) error {
		prog.Done++
		defer report()
		if err != nil {
			f, ferr := itemFailure(i, err)
			if ferr != nil {
				return ferr
			}
			return fail(f)
		}
		res.Outputs[i] = v
		return nil
	})
	sortFailures(res.Failed)
	return res, err
}

func sortFailures(fs []ItemFailure) {
	// insertion sort: failures arrive nearly in order
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Index < fs[j-1].Index; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

// split returns [lo, hi) item ranges for sub-orchestrations, or nil when n
// items fit in one orchestration. Groups hold bound items, or bound^k when
// there would be more than bound groups, so every level stays under bound.
func split(n, bound int) [][2]int {
	if bound <= 0 || n <= bound {
		return nil
	}
	size := bound
	for (n+size-1)/size > bound {
		size *= bound
	}
	var out [][2]int
	for lo := 0; lo < n; lo += size {
		out = append(out, [2]int{lo, min(lo+size, n)})
	}
	return out
}

// childWindow is how many sub-orchestrations run at a time so that, with
// each bounded by cfg.MaxInFlight, no more than about MaxInFlight calls
// run in all.
func childWindow(cfg config, groups [][2]int) int {
	if cfg.MaxInFlight <= 0 {
		return 0
	}
	size := groups[0][1] - groups[0][0]
	return max(1, cfg.MaxInFlight/size)
}

// mapJob is the input of a map sub-orchestration.
type mapJob[In any] struct {
	Items  []In   `json:"items"`
	Config config `json:"config"`
}

func mapOrchestratorName(activityName string) string { return "analytics.map:" + activityName }

// MapOrchestrator returns the sub-orchestrator that Map uses with
// MaxItemsPerOrchestration for activity act, named
// "analytics.map:<activity name>". Register it on every worker that runs
// an orchestrator mapping act with that option:
//
//	w.RegisterOrchestrators(MyJob, analytics.MapOrchestrator(CountWords))
func MapOrchestrator[In, Out any](act *activity.Activity[In, Out]) orchestration.Definition {
	return orchestration.New(mapOrchestratorName(act.Name()), func(ctx orchestration.Context, job mapJob[In]) (MapResult[Out], error) {
		return runMap[In, Out](withCallDefaults(ctx, job.Config), act.Name(), job.Items, job.Config, len(job.Items))
	})
}
