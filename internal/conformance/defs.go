package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// Activities and orchestrators of the suite. Each Start isolates its
// worker, so names may repeat across cases.

var double = activity.New("double", func(ctx context.Context, x int) (int, error) { return 2 * x, nil })

var addOne = activity.New("add-one", func(ctx context.Context, x int) (int, error) { return x + 1, nil })

var fanOut = orchestration.New("fan-out", func(ctx orchestration.Context, n int) (int, error) {
	fs := make([]orchestration.Future[int], n)
	for i := range fs {
		fs[i] = orchestration.Call(ctx, double, i)
	}
	vs, err := orchestration.All(ctx, fs...).Await(ctx)
	if err != nil {
		return 0, err
	}
	sum := 0
	for _, v := range vs {
		sum += v
	}
	return sum, nil
})

var chain = orchestration.New("chain", func(ctx orchestration.Context, n int) (int, error) {
	x := 0
	for range n {
		var err error
		if x, err = orchestration.Call(ctx, addOne, x).Await(ctx); err != nil {
			return 0, err
		}
	}
	return x, nil
})

// attempts counts activity attempts per task key, across the process.
var attempts sync.Map

// countAttempt counts an attempt of the activity's task, or of its
// instance when byInstance.
func countAttempt(ctx context.Context, byInstance bool) int {
	info, _ := activity.InfoFrom(ctx)
	key := info.TaskKey()
	if byInstance {
		key = info.InstanceID
	}
	v, _ := attempts.LoadOrStore(key, new(int))
	mu.Lock()
	defer mu.Unlock()
	*v.(*int)++
	return *v.(*int)
}

var mu sync.Mutex

// flaky fails until its third attempt.
var flaky = activity.New("flaky", func(ctx context.Context, x int) (int, error) {
	if n := countAttempt(ctx, false); n < 3 {
		return 0, activity.NewError("Transient", fmt.Sprintf("attempt %d fails", n))
	}
	info, _ := activity.InfoFrom(ctx)
	return info.Attempt, nil
})

// fatal fails with the error type it is given, counting attempts.
var fatal = activity.New("fatal", func(ctx context.Context, typ string) (int, error) {
	n := countAttempt(ctx, true)
	if typ == "NonRetryable" {
		return n, activity.NewNonRetryableError(typ, "never retry this")
	}
	return n, activity.NewError(typ, "listed as non-retryable by the policy")
})

type attemptsOut struct {
	Result  int
	ErrType string
	Attempt int
}

var retrying = orchestration.New("retrying", func(ctx orchestration.Context, _ struct{}) (attemptsOut, error) {
	v, err := orchestration.Call(ctx, flaky, 1, orchestration.WithRetry(orchestration.RetryPolicy{
		MaxAttempts: 5, InitialInterval: 10 * time.Millisecond, BackoffCoefficient: 1,
	})).Await(ctx)
	if err != nil {
		return attemptsOut{}, err
	}
	return attemptsOut{Result: v, Attempt: v}, nil
})

var nonRetrying = orchestration.New("non-retrying", func(ctx orchestration.Context, typ string) (attemptsOut, error) {
	_, err := orchestration.Call(ctx, fatal, typ, orchestration.WithRetry(orchestration.RetryPolicy{
		MaxAttempts: 5, InitialInterval: 10 * time.Millisecond, NonRetryableErrorTypes: []string{"Listed"},
	})).Await(ctx)
	var ae *orchestration.ActivityError
	if !errors.As(err, &ae) {
		return attemptsOut{}, fmt.Errorf("want an *ActivityError, got %v", err)
	}
	return attemptsOut{ErrType: ae.Type}, nil
})

var timers = orchestration.New("timers", func(ctx orchestration.Context, _ struct{}) (int, error) {
	start := ctx.Now()
	if err := orchestration.Sleep(ctx, 100*time.Millisecond); err != nil {
		return 0, err
	}
	if ctx.Now().Sub(start) < 100*time.Millisecond {
		return 0, fmt.Errorf("Now advanced by %s over a 100ms sleep", ctx.Now().Sub(start))
	}
	short := orchestration.NewTimer(ctx, 50*time.Millisecond)
	long := orchestration.NewTimer(ctx, time.Hour)
	return orchestration.Any(ctx, long, short)
})

var eventWaiter = orchestration.New("event-waiter", func(ctx orchestration.Context, _ struct{}) (int, error) {
	_ = orchestration.SetCustomStatus(ctx, "waiting-1")
	_, err := orchestration.WaitEvent[int](ctx, "go", 100*time.Millisecond).Await(ctx)
	if !errors.Is(err, orchestration.ErrTimeout) {
		return 0, fmt.Errorf("first wait: want a timeout, got %v", err)
	}
	_ = orchestration.SetCustomStatus(ctx, "waiting-2")
	return orchestration.WaitEvent[int](ctx, "go", 0).Await(ctx)
})

var eventCollector = orchestration.New("event-collector", func(ctx orchestration.Context, n int) ([]int, error) {
	// Wait until the client has raised every event, then read them all.
	if _, err := orchestration.WaitEvent[struct{}](ctx, "ready", 0).Await(ctx); err != nil {
		return nil, err
	}
	out := make([]int, n)
	for i := range out {
		v, err := orchestration.WaitEvent[int](ctx, "item", 0).Await(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
})

var child = orchestration.New("child", func(ctx orchestration.Context, x int) (int, error) {
	if x < 0 {
		return 0, activity.NewNonRetryableError("Negative", "child refuses negative input")
	}
	v, err := orchestration.Call(ctx, double, x).Await(ctx)
	return v + 1, err
})

type parentOut struct {
	Sum       int
	ChildType string
	ChildInfo string
}

var parent = orchestration.New("parent", func(ctx orchestration.Context, x int) (parentOut, error) {
	a := orchestration.CallSub(ctx, child, x)
	b := orchestration.CallSub(ctx, child, x+1, orchestration.WithInstanceID(ctx.Info().InstanceID+"-named-child"))
	va, err := a.Await(ctx)
	if err != nil {
		return parentOut{}, err
	}
	vb, err := b.Await(ctx)
	if err != nil {
		return parentOut{}, err
	}
	_, err = orchestration.CallSub(ctx, child, -1).Await(ctx)
	var se *orchestration.SubOrchestrationError
	if !errors.As(err, &se) {
		return parentOut{}, fmt.Errorf("want a *SubOrchestrationError, got %v", err)
	}
	return parentOut{Sum: va + vb, ChildType: se.Type}, nil
})

type canIn struct {
	N     int
	Limit int
}

type canOut struct {
	N          int
	Generation int
}

var counter = orchestration.New("counter", func(ctx orchestration.Context, in canIn) (canOut, error) {
	v, err := orchestration.Call(ctx, addOne, in.N).Await(ctx)
	if err != nil {
		return canOut{}, err
	}
	if v < in.Limit {
		return canOut{}, orchestration.ContinueAsNew(ctx, canIn{N: v, Limit: in.Limit})
	}
	return canOut{N: v, Generation: ctx.Info().Generation}, nil
})

// compensated records the instances whose compensation ran.
var compensated sync.Map

var book = activity.New("book", func(ctx context.Context, _ struct{}) (string, error) { return "booked", nil })

var compensate = activity.New("compensate", func(ctx context.Context, instance string) (struct{}, error) {
	compensated.Store(instance, true)
	return struct{}{}, nil
})

var saga = orchestration.New("saga", func(ctx orchestration.Context, _ struct{}) (string, error) {
	if _, err := orchestration.Call(ctx, book, struct{}{}).Await(ctx); err != nil {
		return "", err
	}
	_ = orchestration.SetCustomStatus(ctx, "booked")
	_, err := orchestration.WaitEvent[string](ctx, "never", 0).Await(ctx)
	if errors.Is(err, orchestration.ErrCanceled) {
		clean := orchestration.WithoutCancel(ctx)
		if _, cerr := orchestration.Call(clean, compensate, ctx.Info().InstanceID).Await(clean); cerr != nil {
			return "", cerr
		}
		return "", err
	}
	return "not canceled", err
})

var versioned = orchestration.New("versioned", func(ctx orchestration.Context, _ struct{}) (int, error) {
	return orchestration.GetVersion(ctx, "change-1", orchestration.DefaultVersion, 2), nil
})

var panicky = orchestration.New("panicky", func(ctx orchestration.Context, _ struct{}) (int, error) {
	panic("boom in orchestrator")
})

var panickyActivity = activity.New("panicky-activity", func(ctx context.Context, _ struct{}) (int, error) {
	panic("boom in activity")
})

var callsPanicky = orchestration.New("calls-panicky", func(ctx orchestration.Context, _ struct{}) (string, error) {
	_, err := orchestration.Call(ctx, panickyActivity, struct{}{}).Await(ctx)
	if !errors.Is(err, orchestration.ErrPanic) {
		return "", fmt.Errorf("want ErrPanic, got %v", err)
	}
	return "recovered", nil
})

type payloadOut struct {
	ActivityInputErr string
	TooLarge         bool
}

var payloads = orchestration.New("payloads", func(ctx orchestration.Context, _ struct{}) (payloadOut, error) {
	// "double" takes an int; give it a string.
	_, err := orchestration.CallNamed[string, int](ctx, double.Name(), "not a number").Await(ctx)
	var ae *orchestration.ActivityError
	if !errors.As(err, &ae) {
		return payloadOut{}, fmt.Errorf("want an *ActivityError, got %v", err)
	}
	// An input over the payload limit is refused before anything runs.
	big := strings.Repeat("x", codec.DefaultMaxPayload+1)
	_, err = orchestration.CallNamed[string, int](ctx, double.Name(), big).Await(ctx)
	return payloadOut{ActivityInputErr: ae.Type, TooLarge: errors.Is(err, codec.ErrPayloadTooLarge)}, nil
})

var callsUnknown = orchestration.New("calls-unknown", func(ctx orchestration.Context, _ struct{}) (string, error) {
	_, err := orchestration.CallNamed[int, int](ctx, "no-such-activity", 1).Await(ctx)
	if !errors.Is(err, orchestration.ErrNotRegistered) {
		return "", fmt.Errorf("want ErrNotRegistered, got %v", err)
	}
	return "not found", nil
})

type detOut struct {
	UUID1, UUID2 string
	Side         int
	Now          time.Time
}

var deterministic = orchestration.New("deterministic", func(ctx orchestration.Context, _ struct{}) (detOut, error) {
	out := detOut{UUID1: orchestration.NewUUID(ctx), UUID2: orchestration.NewUUID(ctx), Now: ctx.Now()}
	v, err := orchestration.SideEffect(ctx, func() (int, error) { return 7, nil })
	if err != nil {
		return out, err
	}
	out.Side = v
	// An activity makes the orchestration replay its first steps.
	if _, err := orchestration.Call(ctx, double, 1).Await(ctx); err != nil {
		return out, err
	}
	if again := orchestration.NewUUID(ctx); again == out.UUID1 || again == out.UUID2 {
		return out, fmt.Errorf("NewUUID repeated %s", again)
	}
	return out, nil
})

var idle = orchestration.New("idle", func(ctx orchestration.Context, in string) (string, error) {
	v, err := orchestration.WaitEvent[string](ctx, "finish", 0).Await(ctx)
	return in + v, err
})

// paged waits for an event, so that it stays in place while a listing
// pages over it.
var paged = orchestration.New("paged", func(ctx orchestration.Context, in string) (string, error) {
	return orchestration.WaitEvent[string](ctx, "finish", 0).Await(ctx)
})

// childForever waits for an event that never comes; terminating its
// parent must end it too.
var childForever = orchestration.New("child-forever", func(ctx orchestration.Context, _ struct{}) (string, error) {
	return orchestration.WaitEvent[string](ctx, "never", 0).Await(ctx)
})

var parentOfForever = orchestration.New("parent-of-forever", func(ctx orchestration.Context, _ struct{}) (string, error) {
	f := orchestration.CallSub(ctx, childForever, struct{}{}, orchestration.WithInstanceID(ctx.Info().InstanceID+"-child"))
	_ = orchestration.SetCustomStatus(ctx, "started child")
	return f.Await(ctx)
})
