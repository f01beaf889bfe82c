package soak

import "github.com/cloudbutton/cloudbutton/client"

// expectation is what the verifier requires of an instance at the end.
type expectation struct {
	status client.RuntimeStatus
	// result is the exact output of a Completed instance (nil: any).
	result *Result
}

// expect computes, without the engine, what the workload orchestrator
// named kind returns for s, given the sequence numbers of the events
// raised to it, in the order they were raised.
func expect(kind string, s Spec, raised []int) expectation {
	done := func(r Result) expectation { return expectation{status: client.StatusCompleted, result: &r} }
	switch kind {
	case FanOut.Name():
		var sum uint64
		for i := range s.N {
			sum = (sum + mix(s.Seed, 0, i)) & mask
		}
		return done(Result{Sum: sum})
	case Sequence.Name():
		return done(Result{Sum: foldModel(s.Seed, 0, 0, s.N)})
	case Timers.Name():
		return done(Result{Sum: mix(s.Seed, 0, s.N), Timers: s.N + 1})
	case Waiter.Name():
		r := Result{Events: raised}
		for _, seq := range raised {
			r.Sum = mix(s.Seed, r.Sum, seq)
		}
		return done(r)
	case Parent.Name():
		var sum uint64
		for i := range s.N {
			sum = (sum + expect(childOf(i).Name(), childSpec(s, i), nil).result.Sum) & mask
		}
		return done(Result{Sum: sum})
	case ContinueAsNew.Name():
		r := Result{Events: raised, Generations: s.N}
		for _, seq := range raised {
			r.Sum = mix(s.Seed, r.Sum, seq)
		}
		return done(r)
	case Retry.Name():
		var sum uint64
		for i := range s.N {
			sum = (sum + mix(s.Seed, 0, i)) & mask
		}
		return done(Result{Sum: sum, Caught: 1})
	case Terminate.Name(), Sleeper.Name():
		return expectation{status: client.StatusTerminated}
	case Suspend.Name():
		acc := foldModel(s.Seed, 0, 0, s.M)
		seq := 0
		if len(raised) > 0 {
			seq = raised[0]
		}
		return done(Result{Sum: foldModel(s.Seed, acc, s.M+seq, 2*s.M+seq), Events: raised})
	}
	return expectation{status: client.StatusCompleted}
}

func foldModel(seed, acc uint64, from, to int) uint64 {
	for i := from; i < to; i++ {
		acc = mix(seed, acc, i)
	}
	return acc
}
