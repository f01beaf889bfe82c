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
