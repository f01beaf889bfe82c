package soak

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// The workloads are written with the public API only (orchestration,
// activity), as a user would write them. Every instance's input is a Spec
// from which its exact output follows (Expect), given the events raised to
// it; every activity appends one line per execution to the execution log.

// Spec is the input of every workload orchestrator: its parameters, and
// for continue-as-new the state carried from run to run.
type Spec struct {
	Seed uint64 `json:"seed"`
	// N is the size: activities (fanout, retry), steps (sequence), timers,
	// events (waiter), children (parent) or generations (can).
	N int `json:"n"`
	// M is a second size: each child's (parent), the steps on either side
	// of the event (suspend).
	M int `json:"m,omitempty"`
	// SleepMS is how long each activity takes, widening the windows in
	// which a kill finds activities in flight.
	SleepMS int `json:"sleepMs,omitempty"`
	// Gen, Got and Acc are what a continue-as-new run carries to the next:
	// its generation, the events received so far, the accumulator.
	Gen int    `json:"gen,omitempty"`
	Got []int  `json:"got,omitempty"`
	Acc uint64 `json:"acc,omitempty"`
}

// Result is the output of every workload orchestrator.
type Result struct {
	// Sum folds or sums the activities' results.
	Sum uint64 `json:"sum"`
	// Events are the sequence numbers of the events received, in order.
	Events []int `json:"events,omitempty"`
	// Timers counts the timers and event timeouts that fired.
	Timers int `json:"timers,omitempty"`
	// Caught counts the non-retryable activity failures the orchestrator
	// caught.
	Caught int `json:"caught,omitempty"`
	// Generations counts the runs of a continue-as-new instance.
	Generations int `json:"generations,omitempty"`
}

// Event is the payload of every raised event.
type Event struct {
	Seq int `json:"seq"`
}

// Work is the input of every activity.
type Work struct {
	Seed uint64 `json:"seed"`
	Acc  uint64 `json:"acc"`
	I    int    `json:"i"`
	// SleepMS is how long the activity takes.
	SleepMS int `json:"sleepMs,omitempty"`
	// FailUntil makes soak.flaky fail (retryably) on attempts below it.
	FailUntil int `json:"failUntil,omitempty"`
	// Fatal makes soak.flaky fail with a non-retryable error.
	Fatal bool `json:"fatal,omitempty"`
}

// Event names.
const (
	eventWaiter  = "e"    // the waiter's events
	eventCAN     = "c"    // continue-as-new's events, one per generation
	eventSuspend = "go"   // raised while the suspend workload is suspended
	eventNever   = "none" // never raised: a timeout
)

// fatalType is the error type of soak.flaky's non-retryable failure.
const fatalType = "soak.fatal"

// mask keeps results exact in JSON numbers of any reader (53 bits).
const mask = 1<<52 - 1

// mix is every activity's result: a hash of its input, so that a result
// from the wrong input, or a fold in the wrong order, shows in the output.
func mix(seed, acc uint64, i int) uint64 {
	x := seed ^ (acc * 0x9e3779b97f4a7c15) ^ (uint64(i+1) * 0xbf58476d1ce4e5b9)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x & mask
}

// run is the body of every activity: log the execution, take SleepMS,
// honour cancellation.
func run(ctx context.Context, name string, w Work) error {
	if err := logExecution(ctx, name, w); err != nil {
		return err
	}
	if w.SleepMS > 0 {
		t := time.NewTimer(time.Duration(w.SleepMS) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Activities.
var (
	// Mix returns mix(Seed, Acc, I).
	Mix = activity.New("soak.mix", func(ctx context.Context, w Work) (uint64, error) {
		if err := run(ctx, "soak.mix", w); err != nil {
			return 0, err
		}
		return mix(w.Seed, w.Acc, w.I), nil
	})
	// Flaky fails retryably on attempts below FailUntil, non-retryably
	// when Fatal, and returns mix(Seed, Acc, I) otherwise.
	Flaky = activity.New("soak.flaky", func(ctx context.Context, w Work) (uint64, error) {
		if err := run(ctx, "soak.flaky", w); err != nil {
			return 0, err
		}
		info, _ := activity.InfoFrom(ctx)
		switch {
		case w.Fatal:
			return 0, activity.NewNonRetryableError(fatalType, fmt.Sprintf("task %d fails for good", w.I))
		case info.Attempt < w.FailUntil:
			return 0, activity.NewError("soak.flaky", fmt.Sprintf("attempt %d of task %d fails (until %d)", info.Attempt, w.I, w.FailUntil))
		}
		return mix(w.Seed, w.Acc, w.I), nil
	})
	// Cleanup is the terminate workload's clean-up, run under
	// WithoutCancel.
	Cleanup = activity.New("soak.cleanup", func(ctx context.Context, w Work) (uint64, error) {
		if err := run(ctx, "soak.cleanup", w); err != nil {
			return 0, err
		}
		return mix(w.Seed, w.Acc, w.I), nil
	})
)

// retryPolicy retries soak.flaky: its deterministic failures end by
// attempt 3; the rest of the budget covers attempts cut short by kills,
// which count.
var retryPolicy = orchestration.RetryPolicy{MaxAttempts: 25, InitialInterval: 10 * time.Millisecond,
	BackoffCoefficient: 2, MaxInterval: 100 * time.Millisecond}

// failUntil is the attempt at which task i of the retry workload first
// succeeds.
func failUntil(i int) int { return 1 + i%3 }

// timerMS is the duration of timer i of the timers workload.
func timerMS(seed uint64, i int) int { return 1 + int(mix(seed, 7, i)%40) }

// Orchestrators. Their names are their kinds.
var (
	// FanOut calls N activities at once and sums their results.
	FanOut = orchestration.New("soak.fanout", func(ctx orchestration.Context, s Spec) (Result, error) {
		fs := make([]orchestration.Future[uint64], s.N)
		for i := range fs {
			fs[i] = orchestration.Call(ctx, Mix, Work{Seed: s.Seed, I: i, SleepMS: s.SleepMS})
		}
		vals, err := orchestration.All(ctx, fs...).Await(ctx)
		if err != nil {
			return Result{}, err
		}
		var sum uint64
		for _, v := range vals {
			sum = (sum + v) & mask
		}
		return Result{Sum: sum}, nil
	})

	// Sequence folds N activities one after the other: each takes the
	// previous result, so the output depends on their order.
	Sequence = orchestration.New("soak.sequence", func(ctx orchestration.Context, s Spec) (Result, error) {
		acc, err := fold(ctx, s, 0, 0, s.N)
		return Result{Sum: acc}, err
	})

	// Timers sets N durable timers (half at once, half one after the
	// other), then an event wait that times out, then calls an activity.
	Timers = orchestration.New("soak.timers", func(ctx orchestration.Context, s Spec) (Result, error) {
		half := s.N / 2
		fs := make([]orchestration.Future[struct{}], half)
		for i := range fs {
			fs[i] = orchestration.NewTimer(ctx, time.Duration(timerMS(s.Seed, i))*time.Millisecond)
		}
		if _, err := orchestration.All(ctx, fs...).Await(ctx); err != nil {
			return Result{}, err
		}
		for i := half; i < s.N; i++ {
			if err := orchestration.Sleep(ctx, time.Duration(timerMS(s.Seed, i))*time.Millisecond); err != nil {
				return Result{}, err
			}
		}
		if _, err := orchestration.WaitEvent[Event](ctx, eventNever, 15*time.Millisecond).Await(ctx); !errors.Is(err, orchestration.ErrTimeout) {
			return Result{}, fmt.Errorf("event wait: want a timeout, got %v", err)
		}
		v, err := orchestration.Call(ctx, Mix, Work{Seed: s.Seed, I: s.N}).Await(ctx)
		return Result{Sum: v, Timers: s.N + 1}, err
	})

	// Waiter waits for N events, one after the other, calling an activity
	// on each, and returns them in the order received.
	Waiter = orchestration.New("soak.waiter", func(ctx orchestration.Context, s Spec) (Result, error) {
		var res Result
		for range s.N {
			ev, err := orchestration.WaitEvent[Event](ctx, eventWaiter, 0).Await(ctx)
			if err != nil {
				return res, err
			}
			res.Events = append(res.Events, ev.Seq)
			if res.Sum, err = orchestration.Call(ctx, Mix, Work{Seed: s.Seed, Acc: res.Sum, I: ev.Seq}).Await(ctx); err != nil {
				return res, err
			}
		}
		return res, nil
	})

	// Parent runs N sub-orchestrations at once (sequences and fan-outs of
	// M) and sums their results.
	Parent = orchestration.New("soak.parent", func(ctx orchestration.Context, s Spec) (Result, error) {
		fs := make([]orchestration.Future[Result], s.N)
		for i := range fs {
			fs[i] = orchestration.CallSub(ctx, childOf(i), childSpec(s, i))
		}
		rs, err := orchestration.All(ctx, fs...).Await(ctx)
		if err != nil {
			return Result{}, err
		}
		var sum uint64
		for _, r := range rs {
			sum = (sum + r.Sum) & mask
		}
		return Result{Sum: sum}, nil
	})

	// ContinueAsNew runs N generations: each (every other one after a
	// timer) waits for one event and folds it in with an activity, then
	// continues as new keeping the events not yet received.
	ContinueAsNew = orchestration.New("soak.can", func(ctx orchestration.Context, s Spec) (Result, error) {
		if s.Gen%2 == 1 {
			if err := orchestration.Sleep(ctx, 5*time.Millisecond); err != nil {
				return Result{}, err
			}
		}
		ev, err := orchestration.WaitEvent[Event](ctx, eventCAN, 0).Await(ctx)
		if err != nil {
			return Result{}, err
		}
		got := append(append([]int(nil), s.Got...), ev.Seq)
		acc, err := orchestration.Call(ctx, Mix, Work{Seed: s.Seed, Acc: s.Acc, I: ev.Seq}).Await(ctx)
		if err != nil {
			return Result{}, err
		}
		if s.Gen+1 < s.N {
			next := s
			next.Gen, next.Got, next.Acc = s.Gen+1, got, acc
			return Result{}, orchestration.ContinueAsNew(ctx, next, orchestration.KeepUnprocessedEvents())
		}
		return Result{Sum: acc, Events: got, Generations: s.N}, nil
	})

	// Retry calls N flaky activities at once, which fail on their first
	// attempts (retried with back-off), and one that fails for good,
	// which it catches.
	Retry = orchestration.New("soak.retry", func(ctx orchestration.Context, s Spec) (Result, error) {
		fs := make([]orchestration.Future[uint64], s.N)
		for i := range fs {
			fs[i] = orchestration.Call(ctx, Flaky, Work{Seed: s.Seed, I: i, FailUntil: failUntil(i)}, orchestration.WithRetry(retryPolicy))
		}
		fatal := orchestration.Call(ctx, Flaky, Work{Seed: s.Seed, I: s.N, Fatal: true}, orchestration.WithRetry(retryPolicy))
		vals, err := orchestration.All(ctx, fs...).Await(ctx)
		if err != nil {
			return Result{}, err
		}
		var res Result
		for _, v := range vals {
			res.Sum = (res.Sum + v) & mask
		}
		var ae *orchestration.ActivityError
		if _, err := fatal.Await(ctx); !errors.As(err, &ae) || ae.Type != fatalType {
			return res, fmt.Errorf("the fatal activity: want a %s failure, got %v", fatalType, err)
		}
		res.Caught++
		return res, nil
	})

	// Terminate starts a child that sleeps for a day and loops over an
	// activity and a timer until the loader terminates it; then it cleans
	// up under WithoutCancel. It never completes on its own.
	Terminate = orchestration.New("soak.terminate", func(ctx orchestration.Context, s Spec) (Result, error) {
		_ = orchestration.CallSub(ctx, Sleeper, Spec{Seed: s.Seed})
		var acc uint64
		var err error
		for i := 0; err == nil; i++ {
			if i == maxLoops {
				return Result{}, fmt.Errorf("not terminated after %d loops", i)
			}
			var v uint64
			if v, err = orchestration.Call(ctx, Mix, Work{Seed: s.Seed, Acc: acc, I: i}).Await(ctx); err == nil {
				acc = v
				err = orchestration.Sleep(ctx, 10*time.Millisecond)
			}
		}
		if !errors.Is(err, orchestration.ErrCanceled) {
			return Result{}, err
		}
		clean := orchestration.WithoutCancel(ctx)
		v, cerr := orchestration.Call(clean, Cleanup, Work{Seed: s.Seed, Acc: acc, I: -1}).Await(clean)
		if cerr != nil {
			return Result{}, cerr
		}
		return Result{Sum: v}, err
	})

	// Sleeper sleeps for a day: the terminate workload's child.
	Sleeper = orchestration.New("soak.sleeper", func(ctx orchestration.Context, s Spec) (Result, error) {
		return Result{}, orchestration.Sleep(ctx, 24*time.Hour)
	})

	// Suspend folds M activities, waits for an event (raised while the
	// loader keeps it suspended), and folds M more.
	Suspend = orchestration.New("soak.suspend", func(ctx orchestration.Context, s Spec) (Result, error) {
		acc, err := fold(ctx, s, 0, 0, s.M)
		if err != nil {
			return Result{}, err
		}
		ev, err := orchestration.WaitEvent[Event](ctx, eventSuspend, 0).Await(ctx)
		if err != nil {
			return Result{}, err
		}
		acc, err = fold(ctx, s, acc, s.M+ev.Seq, 2*s.M+ev.Seq)
		return Result{Sum: acc, Events: []int{ev.Seq}}, err
	})
)

// maxLoops bounds the terminate workload, which would otherwise run on
// if its termination were lost.
const maxLoops = 2000

// fold runs the activities from..to-1 one after the other, each on the
// previous result.
func fold(ctx orchestration.Context, s Spec, acc uint64, from, to int) (uint64, error) {
	for i := from; i < to; i++ {
		v, err := orchestration.Call(ctx, Mix, Work{Seed: s.Seed, Acc: acc, I: i, SleepMS: s.SleepMS}).Await(ctx)
		if err != nil {
			return acc, err
		}
		acc = v
	}
	return acc, nil
}

// childOf is the orchestrator of a parent's child i.
func childOf(i int) *orchestration.Orchestrator[Spec, Result] {
	if i%2 == 0 {
		return Sequence
	}
	return FanOut
}

// childSpec is the input of a parent's child i.
func childSpec(s Spec, i int) Spec {
	return Spec{Seed: mix(s.Seed, 11, i), N: s.M, SleepMS: s.SleepMS}
}

// Orchestrators returns the workload orchestrators.
func Orchestrators() []orchestration.Definition {
	return []orchestration.Definition{FanOut, Sequence, Timers, Waiter, Parent, ContinueAsNew, Retry, Terminate, Sleeper, Suspend}
}

// Activities returns the workload activities.
func Activities() []activity.Definition {
	return []activity.Definition{Mix, Flaky, Cleanup}
}
