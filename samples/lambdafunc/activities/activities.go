// Package activities holds the sample activities served by the
// samples/lambdafunc bootstrap: two useful ones (Greet, CountWords), one
// that reports where it runs (RuntimeInfo), and fault demonstrations (Fail,
// Sleep, Panic, Crash) used by the function host's tests and handy to see
// how each failure reaches an orchestrator.
package activities

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/cloudbutton/cloudbutton/activity"
)

// Greeting is the word Greet greets with. Set it at build time to tell
// two builds apart, as the function host's deploy tests do:
//
//	go build -ldflags "-X github.com/cloudbutton/cloudbutton/samples/lambdafunc/activities.Greeting=hi" ./samples/lambdafunc
var Greeting = "hello"

// Greet returns "<Greeting>, <name>" ("hello, <name>").
var Greet = activity.New("greet", func(ctx context.Context, name string) (string, error) {
	if name == "" {
		return "", activity.NewNonRetryableError("EmptyName", "greet needs a name")
	}
	return Greeting + ", " + name, nil
})

// CountWords counts the words of a text.
var CountWords = activity.New("count-words", func(ctx context.Context, text string) (map[string]int, error) {
	counts := map[string]int{}
	for _, w := range strings.Fields(strings.ToLower(text)) {
		counts[strings.Trim(w, ".,;:!?\"'()")]++
	}
	delete(counts, "")
	return counts, nil
})

// Runtime describes the process an activity ran in.
type Runtime struct {
	PID            int    `json:"pid"`
	Function       string `json:"function"` // AWS_LAMBDA_FUNCTION_NAME, empty in-process
	Memory         string `json:"memory"`   // AWS_LAMBDA_FUNCTION_MEMORY_SIZE
	IdempotencyKey string `json:"idempotencyKey"`
	Attempt        int    `json:"attempt"`
	// TraceID and SpanID are those of the span in the activity's ctx: its
	// attempt's, when the worker traces (see package telemetry).
	TraceID string `json:"traceId,omitempty"`
	SpanID  string `json:"spanId,omitempty"`
}

// RuntimeInfo reports its process id, attempt and span, to observe cold
// starts, warm reuse, replaced processes and trace context.
var RuntimeInfo = activity.New("runtime-info", func(ctx context.Context, _ struct{}) (Runtime, error) {
	info, _ := activity.InfoFrom(ctx)
	r := Runtime{
		PID: os.Getpid(), Function: os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), Memory: os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
		IdempotencyKey: info.IdempotencyKey, Attempt: info.Attempt,
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.TraceID, r.SpanID = sc.TraceID().String(), sc.SpanID().String()
	}
	return r, nil
})

// Failure describes the error Fail returns.
type Failure struct {
	Type         string `json:"type"`
	Message      string `json:"message"`
	NonRetryable bool   `json:"nonRetryable"`
}

// Fail returns the application error it is given.
var Fail = activity.New("fail", func(ctx context.Context, f Failure) (struct{}, error) {
	if f.NonRetryable {
		return struct{}{}, activity.NewNonRetryableError(f.Type, f.Message)
	}
	return struct{}{}, activity.NewError(f.Type, f.Message)
})

// Sleep sleeps for the given number of milliseconds, ignoring its context
// on purpose: only the platform's timeout stops it.
var Sleep = activity.New("sleep", func(ctx context.Context, ms int) (int, error) {
	time.Sleep(time.Duration(ms) * time.Millisecond)
	return ms, nil
})

// Panic panics with the given message.
var Panic = activity.New("panic", func(ctx context.Context, msg string) (struct{}, error) {
	panicWith(msg)
	return struct{}{}, nil
})

func panicWith(msg string) { panic(fmt.Sprintf("sample panic: %s", msg)) }

// Crash ends the process with the given exit code, as a runtime crash
// (out of memory, a fatal error in a goroutine) would.
var Crash = activity.New("crash", func(ctx context.Context, code int) (struct{}, error) {
	fmt.Fprintf(os.Stderr, "crash: exiting with status %d\n", code)
	os.Exit(code)
	return struct{}{}, nil
})

// All returns every sample activity.
func All() []activity.Definition {
	return []activity.Definition{Greet, CountWords, RuntimeInfo, Fail, Sleep, Panic, Crash}
}
