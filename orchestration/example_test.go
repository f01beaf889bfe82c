package orchestration_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

var upper = activity.New("upper", func(ctx context.Context, s string) (string, error) {
	return strings.ToUpper(s), nil
})

// Fan out one activity per word, fan in the results in order.
func ExampleAll() {
	shout := orchestration.New("shout", func(ctx orchestration.Context, words []string) (string, error) {
		fs := make([]orchestration.Future[string], len(words))
		for i, w := range words {
			fs[i] = orchestration.Call(ctx, upper, w)
		}
		out, err := orchestration.All(ctx, fs...).Await(ctx)
		return strings.Join(out, " "), err
	})

	env := orchestrationtest.New(nil)
	defer env.Close()
	env.RegisterActivities(upper)
	out, err := orchestrationtest.Run(env, shout, []string{"hello", "durable", "world"})
	fmt.Println(out, err)
	// Output: HELLO DURABLE WORLD <nil>
}

// Wait for a human decision, or give up after a day.
func ExampleWaitEvent() {
	approval := orchestration.New("approval", func(ctx orchestration.Context, order string) (string, error) {
		ok, err := orchestration.WaitEvent[bool](ctx, "approved", 24*time.Hour).Await(ctx)
		switch {
		case errors.Is(err, orchestration.ErrTimeout):
			return order + ": expired", nil
		case err != nil:
			return "", err
		case ok:
			return order + ": approved", nil
		}
		return order + ": rejected", nil
	})

	env := orchestrationtest.New(nil)
	defer env.Close()
	orchestrationtest.RaiseEventAfter(env, 3*time.Hour, "approved", true) // virtual time
	out, _ := orchestrationtest.Run(env, approval, "order-7")
	fmt.Println(out)
	// Output: order-7: approved
}

// Retry an activity, and match the type of its error after the last
// attempt.
func ExampleWithRetry() {
	charge := activity.New("charge", func(ctx context.Context, cents int) (string, error) {
		return "", activity.NewError("CardDeclined", "insufficient funds")
	})
	pay := orchestration.New("pay", func(ctx orchestration.Context, cents int) (string, error) {
		_, err := orchestration.Call(ctx, charge, cents,
			orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Second}),
		).Await(ctx)
		if activity.IsType(err, "CardDeclined") {
			return "declined after retries", nil
		}
		return "paid", err
	})

	env := orchestrationtest.New(nil)
	defer env.Close()
	env.RegisterActivities(charge)
	out, _ := orchestrationtest.Run(env, pay, 1200)
	fmt.Println(out)
	// Output: declined after retries
}

// Change orchestrator code under running instances: old instances keep
// the old path, new ones take the new one.
func ExampleGetVersion() {
	check := activity.New("fraud-check", func(ctx context.Context, order string) (bool, error) { return true, nil })
	order := orchestration.New("order-v2", func(ctx orchestration.Context, id string) (string, error) {
		if orchestration.GetVersion(ctx, "add-fraud-check", orchestration.DefaultVersion, 1) >= 1 {
			if _, err := orchestration.Call(ctx, check, id).Await(ctx); err != nil {
				return "", err
			}
			return id + " checked", nil
		}
		return id + " unchecked", nil
	})

	env := orchestrationtest.New(nil)
	defer env.Close()
	env.RegisterActivities(check)
	out, _ := orchestrationtest.Run(env, order, "o-1")
	fmt.Println(out)
	// Output: o-1 checked
}

// Set a retry policy and a timeout once for the activity calls of an
// orchestration; a call's own options override them.
func ExampleWithCallOptions() {
	fetch := activity.New("fetch", func(ctx context.Context, url string) (string, error) {
		if info, _ := activity.InfoFrom(ctx); info.Attempt == 1 {
			return "", activity.NewError("Unavailable", "try again later")
		}
		return "page of " + url, nil
	})
	crawl := orchestration.New("crawl", func(ctx orchestration.Context, urls []string) (string, error) {
		ctx = orchestration.WithCallOptions(ctx,
			orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Second}),
			orchestration.WithStartToCloseTimeout(time.Minute))
		pages, err := orchestration.CallAll(ctx, fetch, urls, 2).Await(ctx) // retried
		if err != nil {
			return "", err
		}
		_, err = orchestration.Call(ctx, fetch, "once",
			orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 1})).Await(ctx)
		return fmt.Sprintf("%q; a single attempt fails: %t", pages, activity.IsType(err, "Unavailable")), nil
	})

	env := orchestrationtest.New(nil)
	defer env.Close()
	env.RegisterActivities(fetch)
	out, err := orchestrationtest.Run(env, crawl, []string{"a", "b", "c"})
	fmt.Println(out, err)
	// Output: ["page of a" "page of b" "page of c"]; a single attempt fails: true <nil>
}

// Name the downstream dependency of each call, and its tenant, so that
// the worker's per-key limits (worker.Options.KeyLimits) bound them over
// all instances: here at most one charge at a time.
func ExampleWithKey() {
	charge := activity.New("charge", func(ctx context.Context, cents int) (string, error) {
		return fmt.Sprintf("charged %d", cents), nil
	})
	pay := orchestration.New("pay", func(ctx orchestration.Context, cents []int) ([]string, error) {
		ctx = orchestration.WithCallOptions(ctx, orchestration.WithKey("api.stripe.com"))
		fs := make([]orchestration.Future[string], len(cents))
		for i, c := range cents {
			fs[i] = orchestration.Call(ctx, charge, c)
		}
		return orchestration.All(ctx, fs...).Await(ctx)
	})

	env := orchestrationtest.New(nil)
	defer env.Close()
	orchestrationtest.MockActivity(env, charge, func(ctx context.Context, cents int) (string, error) {
		return fmt.Sprintf("charged %d", cents), nil
	})
	out, err := orchestrationtest.Run(env, pay, []int{100, 250})
	fmt.Println(out, err)
	// Output: [charged 100 charged 250] <nil>
}
