package functionhost_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/samples/lambdafunc/activities"
	"github.com/cloudbutton/cloudbutton/worker"
)

// report is what the orchestration returns: activity results, and how the
// failures of activities reached it.
type report struct {
	Greeting   string         `json:"greeting"`
	Counts     map[string]int `json:"counts"`
	FailType   string         `json:"failType"`
	FailMsg    string         `json:"failMsg"`
	FailFinal  bool           `json:"failFinal"`
	PanicType  string         `json:"panicType"`
	TimeoutErr bool           `json:"timeoutErr"`
}

var lambdaReport = orchestration.New("lambda-report", func(ctx orchestration.Context, texts []string) (report, error) {
	var r report
	g, err := orchestration.Call(ctx, activities.Greet, "orchestrator").Await(ctx)
	if err != nil {
		return r, err
	}
	r.Greeting = g
	futures := make([]orchestration.Future[map[string]int], len(texts))
	for i, t := range texts { // fan-out
		futures[i] = orchestration.Call(ctx, activities.CountWords, t)
	}
	counts, err := orchestration.All(ctx, futures...).Await(ctx) // fan-in
	if err != nil {
		return r, err
	}
	r.Counts = map[string]int{}
	for _, c := range counts {
		for w, n := range c {
			r.Counts[w] += n
		}
	}
	_, err = orchestration.Call(ctx, activities.Fail, activities.Failure{Type: "InsufficientFunds", Message: "balance 3 < 5", NonRetryable: true}).Await(ctx)
	var ae *orchestration.ActivityError
	if errors.As(err, &ae) {
		r.FailType, r.FailMsg, r.FailFinal = ae.Type, ae.Message, ae.NonRetryable
	}
	_, err = orchestration.Call(ctx, activities.Panic, "p", orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 2, InitialInterval: time.Millisecond})).Await(ctx)
	if errors.As(err, &ae) {
		r.PanicType = ae.Type
	}
	// Sleep ignores its context: in-process the start-to-close timeout stops
	// it, on Lambda the function timeout (500ms) kills the process first.
	_, err = orchestration.Call(ctx, activities.Sleep, 2000, orchestration.WithStartToCloseTimeout(time.Second),
		orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 1})).Await(ctx)
	r.TimeoutErr = errors.Is(err, orchestration.ErrTimeout)
	return r, nil
})

// startEngine opens an embedded engine with a worker that hosts o and the
// sample activities; both are stopped in t.Cleanup.
func startEngine(t *testing.T, opts worker.Options, o orchestration.Definition) *embedded.Engine {
	t.Helper()
	eng, err := embedded.Open(context.Background(), filepath.Join(t.TempDir(), "e2e.db"), embedded.Options{})
	require.NoError(t, err)
	w := worker.New(eng, opts)
	w.RegisterOrchestrators(o)
	w.RegisterActivities(activities.All()...)
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() {
		require.NoError(t, w.Stop(context.Background()))
		require.NoError(t, eng.Close())
	})
	return eng
}

func runReport(t *testing.T, inv faas.Invoker) report {
	t.Helper()
	eng := startEngine(t, worker.Options{Invoker: inv, DefaultStartToClose: 5 * time.Second}, lambdaReport)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	texts := make([]string, 20)
	for i := range texts {
		texts[i] = fmt.Sprintf("the quick fox %d jumps over the lazy dog", i%3)
	}
	id, err := client.Start(ctx, eng, lambdaReport, texts)
	require.NoError(t, err)
	r, err := client.Result(ctx, eng, lambdaReport, id)
	require.NoError(t, err)
	return r
}

// TestOrchestrationOnLambdaMatchesInProcess runs an orchestration whose
// activities are all Lambda invocations of a real bootstrap on the local
// host, and checks it ends exactly as the in-process run does.
func TestOrchestrationOnLambdaMatchesInProcess(t *testing.T) {
	inProcess := runReport(t, nil)
	assert.Equal(t, "hello, orchestrator", inProcess.Greeting)
	assert.Equal(t, 40, inProcess.Counts["the"])
	assert.Equal(t, "InsufficientFunds", inProcess.FailType)
	assert.True(t, inProcess.FailFinal)
	assert.Equal(t, "Panic", inProcess.PanicType)
	assert.Equal(t, "balance 3 < 5", inProcess.FailMsg)
	assert.True(t, inProcess.TimeoutErr)

	h, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"samples": {Bootstrap: bootstrap(t), Timeout: 500 * time.Millisecond, Concurrency: 8, OnLimit: functionhost.Queue},
	}})
	onLambda := runReport(t, newInvoker(t, url, awslambda.Options{DefaultFunction: "samples"}))
	assert.Equal(t, inProcess, onLambda)
	assert.True(t, onLambda.TimeoutErr, "the function timeout reached the orchestrator as a timeout")

	st, _ := h.Stats("samples")
	assert.GreaterOrEqual(t, st.Invocations, int64(1+20+1+2+1), "every activity ran as a Lambda invocation")
	assert.Equal(t, int64(1), st.Timeouts)
}

var sleepsOnLambda = orchestration.New("sleeps-on-lambda", func(ctx orchestration.Context, ms int) (int, error) {
	return orchestration.Call(ctx, activities.Sleep, ms, orchestration.WithStartToCloseTimeout(time.Minute)).Await(ctx)
})

// TestTerminateAbandonsLambdaAttempts: terminating an orchestration whose
// activity is running as a Lambda invocation (of a real bootstrap that
// ignores its context) abandons the invocation: the instance ends
// Terminated at once, and the invocation's late result is dropped.
func TestTerminateAbandonsLambdaAttempts(t *testing.T) {
	h, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"samples": {Bootstrap: bootstrap(t), Timeout: time.Minute, Concurrency: 2, OnLimit: functionhost.Queue},
	}})
	eng := startEngine(t, worker.Options{Invoker: newInvoker(t, url, awslambda.Options{DefaultFunction: "samples"})}, sleepsOnLambda)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const sleep = 3 * time.Second
	id, err := client.Start(ctx, eng, sleepsOnLambda, int(sleep.Milliseconds()))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, _ := h.Stats("samples")
		return st.Invocations >= 1
	}, 30*time.Second, 10*time.Millisecond, "the activity runs as an invocation")
	require.NoError(t, eng.Terminate(ctx, id, "stop"))
	st, err := eng.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusTerminated, st.RuntimeStatus)
	// The invocation goes on (it ignores cancellation); when it ends, its
	// result must not be recorded.
	deadline := time.Now().Add(sleep + time.Second)
	for time.Now().Before(deadline) {
		var hist bytes.Buffer
		require.NoError(t, eng.ExportHistory(ctx, id, &hist))
		require.NotContains(t, hist.String(), `"ActivityCompleted"`, "its late result is dropped")
		time.Sleep(100 * time.Millisecond)
	}
}
