package analytics

import (
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// ReduceResult is the outcome of MapReduce.
type ReduceResult[Out any] struct {
	// Value is the reduction of every successful map output (the zero
	// value when none succeeded).
	Value Out `json:"value"`
	// Failed lists the map items that failed, within the policy.
	Failed []ItemFailure `json:"failed,omitempty"`
}

// KeyedResult is the outcome of MapReduceByKey.
type KeyedResult[Out any] struct {
	// Values holds one reduction per partition; partitions no map output
	// reached hold the zero value.
	Values []Out `json:"values"`
	// Failed lists the map items that failed, within the policy.
	Failed []ItemFailure `json:"failed,omitempty"`
}

// ErrReduce is matched (errors.Is) by every *ReduceError.
var ErrReduce = errors.New("analytics: reduce failed")

// ReduceError reports a reduce call that failed after its retries; reduce
// failures are never tolerated, since they would lose every input below
// them in the tree.
type ReduceError struct {
	Activity  string
	Partition int
	Level     int
	Err       error
}

// Error describes the failed reduce.
func (e *ReduceError) Error() string {
	return fmt.Sprintf("analytics: reduce activity %q failed (partition %d, tree level %d): %v", e.Activity, e.Partition, e.Level, e.Err)
}

// Unwrap returns the activity's error.
func (e *ReduceError) Unwrap() error { return e.Err }

// Is matches ErrReduce.
func (e *ReduceError) Is(target error) bool { return target == ErrReduce }

// KeyPartition returns the partition in [0, partitions) of key: a stable
// hash (FNV-1a), the same in every process. Use it in map activities of
// MapReduceByKey to route keys to reducers.
func KeyPartition(key string, partitions int) int {
	if partitions <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(partitions))
}

// MapReduce maps items with mapAct, as Map does (same options), then
// combines the successful outputs with reduceAct in a tree: each reduce
// call combines up to WithFanIn(k) partial results (default
// DefaultFanIn), level after level, until one is left. reduceAct must be
// associative; it is called with outputs in input order, so it need not
// be commutative. A single output is returned without calling reduceAct.
func MapReduce[In, Out any](ctx orchestration.Context, mapAct *activity.Activity[In, Out], reduceAct *activity.Activity[[]Out, Out], items []In, opts ...Option) (ReduceResult[Out], error) {
	if mapAct == nil || reduceAct == nil {
		return ReduceResult[Out]{}, errors.New("analytics.MapReduce: nil activity")
	}
	cfg, err := buildConfig(ctx, fmt.Sprintf("analytics.MapReduce(%q, %q)", mapAct.Name(), reduceAct.Name()), opts)
	if err != nil {
		return ReduceResult[Out]{}, err
	}
	p := pipeline[In, Out, Out]{
		mapName: mapAct.Name(), reduceName: reduceAct.Name(), partitions: 1,
		parts: func(o Out) ([]Out, error) { return []Out{o}, nil },
		child: mapReduceOrchestratorName(mapAct.Name(), reduceAct.Name(), false),
	}
	r, err := p.run(ctx, items, cfg, len(items))
	if err != nil {
		return ReduceResult[Out]{Failed: r.Failed}, err
	}
	return ReduceResult[Out]{Value: r.Values[0], Failed: r.Failed}, nil
}

// MapReduceByKey maps items with mapAct, whose output has one entry per
// partition (use KeyPartition to route keys), then reduces each partition
// separately with reduceAct, as MapReduce does. An output with another
// number of entries fails its item with type "BadOutput".
func MapReduceByKey[In, Out any](ctx orchestration.Context, mapAct *activity.Activity[In, []Out], reduceAct *activity.Activity[[]Out, Out], items []In, partitions int, opts ...Option) (KeyedResult[Out], error) {
	if mapAct == nil || reduceAct == nil {
		return KeyedResult[Out]{}, errors.New("analytics.MapReduceByKey: nil activity")
	}
	if partitions < 1 {
		return KeyedResult[Out]{}, fmt.Errorf("analytics.MapReduceByKey: %d partitions, want at least 1", partitions)
	}
	cfg, err := buildConfig(ctx, fmt.Sprintf("analytics.MapReduceByKey(%q, %q)", mapAct.Name(), reduceAct.Name()), opts)
	if err != nil {
		return KeyedResult[Out]{}, err
	}
	p := keyedPipeline[In, Out](mapAct.Name(), reduceAct.Name(), partitions)
	r, err := p.run(ctx, items, cfg, len(items))
	if err != nil {
		return KeyedResult[Out]{Failed: r.Failed}, err
	}
	return KeyedResult[Out]{Values: r.Values, Failed: r.Failed}, nil
}

func keyedPipeline[In, Out any](mapName, reduceName string, partitions int) pipeline[In, []Out, Out] {
	return pipeline[In, []Out, Out]{
		mapName: mapName, reduceName: reduceName, partitions: partitions,
		parts: func(o []Out) ([]Out, error) {
			if len(o) != partitions {
				return nil, fmt.Errorf("map activity %q returned %d partitions, want %d", mapName, len(o), partitions)
			}
			return o, nil
		},
		child: mapReduceOrchestratorName(mapName, reduceName, true),
	}
}

// pipeline is map-then-reduce with M the map output and V the value of
// one partition.
type pipeline[In, M, V any] struct {
	mapName, reduceName string
	partitions          int
	parts               func(M) ([]V, error)
	child               string
}

// partial is what a pipeline (or a sub-orchestration of one) returns: per
// partition, the reduction of what reached it, if anything did.
type partial[V any] struct {
	Values  []V           `json:"values"`
	Present []bool        `json:"present"`
	Failed  []ItemFailure `json:"failed,omitempty"`
}

type mapReduceJob[In any] struct {
	Items      []In   `json:"items"`
	Config     config `json:"config"`
	Partitions int    `json:"partitions"`
}

func (p pipeline[In, M, V]) run(ctx orchestration.Context, items []In, cfg config, policyTotal int) (partial[V], error) {
	columns := make([][]V, p.partitions)
	var failed []ItemFailure
	if groups := split(len(items), cfg.MaxItems); groups != nil {
		childCfg := cfg
		childCfg.TolerateN, childCfg.TolerateFraction, childCfg.MaxInFlight = len(items), 0, cfg.MaxInFlight
		tolerated := cfg.allowed(policyTotal)
		prog := Progress{Total: len(items)}
		results := make([]partial[V], len(groups))
		err := window(ctx, len(groups), childWindow(cfg, groups), func(g int) orchestration.Future[partial[V]] {
			job := mapReduceJob[In]{Items: items[groups[g][0]:groups[g][1]], Config: childCfg, Partitions: p.partitions}
			return orchestration.CallSubNamed[mapReduceJob[In], partial[V]](ctx, p.child, job)
		}, func(g int, r partial[V], err error) error {
			lo, hi := groups[g][0], groups[g][1]
			if err != nil {
				var re *orchestration.SubOrchestrationError
				if errors.As(err, &re) && re.Type == errorTypeReduce {
					return fmt.Errorf("analytics: sub-orchestration of items %d to %d: %w", lo, hi-1, err)
				}
				for i := lo; i < hi; i++ {
					f, ferr := itemFailure(i, err)
					if ferr != nil {
						return ferr
					}
					failed = append(failed, f)
				}
			} else {
				results[g] = r
				for _, f := range r.Failed {
					f.Index += lo
					failed = append(failed, f)
				}
			}
			prog.Done += hi - lo
			prog.Failed = len(failed)
			if cfg.progress != nil {
				cfg.progress(ctx, prog)
			}
			if len(failed) > tolerated {
				sortFailures(failed)
				return &MapError{Activity: p.mapName, Total: policyTotal, Tolerated: tolerated, Failed: failed}
			}
			return nil
		})
		sortFailures(failed)
		if err != nil {
			return partial[V]{Failed: failed}, err
		}
		for _, r := range results {
			for k := range min(len(r.Values), len(r.Present), p.partitions) {
				if r.Present[k] {
					columns[k] = append(columns[k], r.Values[k])
				}
			}
		}
	} else {
		mcfg := cfg
		mcfg.MaxItems = 0
		mr, err := runMap[In, M](ctx, p.mapName, items, mcfg, policyTotal)
		if err != nil {
			return partial[V]{Failed: mr.Failed}, err
		}
		failed = mr.Failed
		bad := map[int]bool{}
		for _, f := range failed {
			bad[f.Index] = true
		}
		tolerated := cfg.allowed(policyTotal)
		for i, out := range mr.Outputs {
			if bad[i] {
				continue
			}
			vs, perr := p.parts(out)
			if perr != nil {
				failed = append(failed, ItemFailure{Index: i, Type: "BadOutput", Message: perr.Error()})
				sortFailures(failed)
				if len(failed) > tolerated {
					return partial[V]{Failed: failed}, &MapError{Activity: p.mapName, Total: policyTotal, Tolerated: tolerated, Failed: failed}
				}
				continue
			}
			for k, v := range vs {
				columns[k] = append(columns[k], v)
			}
		}
	}
	out := partial[V]{Values: make([]V, p.partitions), Present: make([]bool, p.partitions), Failed: failed}
	// Reduce every partition, each in its own coroutine.
	fs := make([]orchestration.Future[V], p.partitions)
	for k := range p.partitions {
		if len(columns[k]) == 0 {
			continue
		}
		out.Present[k] = true
		col := columns[k]
		fs[k] = orchestration.Go(ctx, func(ctx orchestration.Context) (V, error) {
			return p.reduceTree(ctx, cfg, k, col)
		})
	}
	for k, f := range fs {
		if !out.Present[k] {
			continue
		}
		v, err := f.Await(ctx)
		if err != nil {
			return partial[V]{Failed: failed}, err
		}
		out.Values[k] = v
	}
	return out, nil
}

// reduceTree combines vals fanIn at a time, level by level.
func (p pipeline[In, M, V]) reduceTree(ctx orchestration.Context, cfg config, partition int, vals []V) (V, error) {
	callOpts := cfg.callOptions()
	for level := 0; len(vals) > 1; level++ {
		n := (len(vals) + cfg.FanIn - 1) / cfg.FanIn
		next := make([]V, n)
		err := window(ctx, n, cfg.MaxInFlight, func(g int) orchestration.Future[V] {
			group := vals[g*cfg.FanIn : min((g+1)*cfg.FanIn, len(vals))]
			if len(group) == 1 {
				return orchestration.Go(ctx, func(orchestration.Context) (V, error) { return group[0], nil })
			}
			return orchestration.CallNamed[[]V, V](ctx, p.reduceName, group, callOpts...)
		}, func(g int, v V, err error) error {
			if err != nil {
				if errors.Is(err, orchestration.ErrCanceled) {
					return err
				}
				return &ReduceError{Activity: p.reduceName, Partition: partition, Level: level, Err: err}
			}
			next[g] = v
			return nil
		})
		if err != nil {
			var zero V
			return zero, err
		}
		vals = next
	}
	return vals[0], nil
}

// errorTypeReduce is the failure type a sub-orchestration ends with when
// one of its reduce calls failed.
const errorTypeReduce = "ReduceFailed"

func mapReduceOrchestratorName(mapName, reduceName string, keyed bool) string {
	kind := "analytics.mapreduce:"
	if keyed {
		kind = "analytics.mapreducebykey:"
	}
	return kind + mapName + ":" + reduceName
}

func childOrchestrator[In, M, V any](name string, mk func(partitions int) pipeline[In, M, V]) orchestration.Definition {
	return orchestration.New(name, func(ctx orchestration.Context, job mapReduceJob[In]) (partial[V], error) {
		r, err := mk(job.Partitions).run(withCallDefaults(ctx, job.Config), job.Items, job.Config, len(job.Items))
		var re *ReduceError
		if errors.As(err, &re) {
			return r, activity.NewNonRetryableError(errorTypeReduce, err.Error())
		}
		return r, err
	})
}

// MapReduceOrchestrator returns the sub-orchestrator that MapReduce uses
// with MaxItemsPerOrchestration for these activities, named
// "analytics.mapreduce:<map>:<reduce>". Each one maps its items and
// reduces them before returning, so the parent only reduces one partial
// result per sub-orchestration. Register it on every worker that runs the
// calling orchestrator.
func MapReduceOrchestrator[In, Out any](mapAct *activity.Activity[In, Out], reduceAct *activity.Activity[[]Out, Out]) orchestration.Definition {
	return childOrchestrator(mapReduceOrchestratorName(mapAct.Name(), reduceAct.Name(), false), func(int) pipeline[In, Out, Out] {
		return pipeline[In, Out, Out]{
			mapName: mapAct.Name(), reduceName: reduceAct.Name(), partitions: 1,
			parts: func(o Out) ([]Out, error) { return []Out{o}, nil },
			child: mapReduceOrchestratorName(mapAct.Name(), reduceAct.Name(), false),
		}
	})
}

// MapReduceByKeyOrchestrator is MapReduceOrchestrator for MapReduceByKey,
// named "analytics.mapreducebykey:<map>:<reduce>".
func MapReduceByKeyOrchestrator[In, Out any](mapAct *activity.Activity[In, []Out], reduceAct *activity.Activity[[]Out, Out]) orchestration.Definition {
	return childOrchestrator(mapReduceOrchestratorName(mapAct.Name(), reduceAct.Name(), true), func(partitions int) pipeline[In, []Out, Out] {
		return keyedPipeline[In, Out](mapAct.Name(), reduceAct.Name(), partitions)
	})
}
