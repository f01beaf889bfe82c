package orchestrationtest_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

var sendReminder = activity.New("send-reminder", func(ctx context.Context, to string) (string, error) {
	panic("the real activity sends e-mail; tests mock it")
})

var remind = orchestration.New("remind", func(ctx orchestration.Context, to string) (int, error) {
	sent := 0
	for range 3 {
		if err := orchestration.Sleep(ctx, 24*time.Hour); err != nil {
			return sent, err
		}
		if _, err := orchestration.Call(ctx, sendReminder, to).Await(ctx); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, nil
})

// Mock an activity, run three days of an orchestration in virtual time,
// and inspect the calls and the history.
func ExampleMockActivity() {
	env := orchestrationtest.New(nil) // in a test: orchestrationtest.New(t)
	defer env.Close()
	calls := orchestrationtest.MockActivity(env, sendReminder, func(ctx context.Context, to string) (string, error) {
		return "sent to " + to, nil
	})
	sent, err := orchestrationtest.Run(env, remind, "ann@example.com")
	fmt.Println(sent, err, calls.Count(), calls.Inputs()[0])
	fmt.Println("virtual time elapsed:", env.Now().Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	var types []string
	for _, e := range env.History()[:4] {
		types = append(types, string(e.Type))
	}
	fmt.Println(strings.Join(types, ", "))
	// Output:
	// 3 <nil> 3 ann@example.com
	// virtual time elapsed: 72h0m0s
	// OrchestrationStarted, TimerCreated, TimerFired, ActivityScheduled
}

// Replay a recorded history against changed code: the harness reports the
// step where they diverge.
func ExampleReplayHistory() {
	env := orchestrationtest.New(nil)
	defer env.Close()
	orchestrationtest.MockActivity(env, sendReminder, func(ctx context.Context, to string) (string, error) { return "ok", nil })
	_, _ = orchestrationtest.Run(env, remind, "bob@example.com")
	var golden strings.Builder
	_ = env.ExportHistory(&golden) // usually a file in testdata/

	changed := orchestration.New("remind", func(ctx orchestration.Context, to string) (int, error) {
		_, err := orchestration.Call(ctx, sendReminder, to).Await(ctx) // remind at once: a breaking change
		return 1, err
	})
	err := orchestrationtest.ReplayHistory(strings.NewReader(golden.String()), changed)
	fmt.Println(err)
	// Output:
	// [CB1100] nondeterminism in orchestration "test-instance" at step 1: history recorded TimerCreated, but the code did ActivityScheduled "send-reminder"
}

var fetchPage = activity.New("fetch-page", func(ctx context.Context, url string) (string, error) {
	panic("the real activity fetches the page; tests mock it")
})

var crawl = orchestration.New("crawl", func(ctx orchestration.Context, url string) (string, error) {
	return orchestration.Call(ctx, fetchPage, url, orchestration.WithRetry(orchestration.RetryPolicy{
		MaxAttempts: 3, InitialInterval: time.Minute, BackoffCoefficient: 2})).Await(ctx)
})

// List the attempts of the activity calls (as client.Client's
// ActivityAttempts does on the embedded engine): a call that failed twice
// and then succeeded, each retry due after its back-off in virtual time.
func ExampleEnv_ActivityAttempts() {
	env := orchestrationtest.New(nil)
	defer env.Close()
	tries := 0
	orchestrationtest.MockActivity(env, fetchPage, func(ctx context.Context, url string) (string, error) {
		if tries++; tries < 3 {
			return "", activity.NewError("Unavailable", "try again")
		}
		return "<html>", nil
	})
	_, _ = orchestrationtest.Run(env, crawl, "https://example.com")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, a := range env.ActivityAttempts() {
		fmt.Printf("task %d attempt %d %s, due at +%s, started at +%s", a.TaskID, a.Attempt, a.State,
			a.ScheduledAt.Sub(start), a.StartedAt.Sub(start))
		if a.Failure != nil {
			fmt.Printf(": %s", a.Failure.Message)
		}
		fmt.Println()
	}
	// Output:
	// task 1 attempt 1 Failed, due at +0s, started at +0s: try again
	// task 1 attempt 2 Failed, due at +1m0s, started at +1m0s: try again
	// task 1 attempt 3 Completed, due at +3m0s, started at +3m0s
}
