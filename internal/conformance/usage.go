package conformance

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// FeatureSubOrchestrationUsage: Status.SubOrchestrationUsage sums the
// usage of an instance's sub-orchestrations.
const FeatureSubOrchestrationUsage Feature = "sub-orchestration-usage"

// billedAttempt is what billedInvoker reports for each attempt it bills:
// 125ms of a 1 GB function, 0.125 GB-s.
var billedAttempt = faas.Usage{RequestID: "conformance", Duration: 120 * time.Millisecond,
	BilledDuration: 125 * time.Millisecond, MemoryMB: 1024, MaxMemoryUsedMB: 64}

// billed is the usage of n billed attempts.
func billed(n int64) *client.Usage {
	return &client.Usage{Invocations: n, BilledDuration: time.Duration(n) * billedAttempt.BilledDuration,
		GBSeconds: float64(n) * billedAttempt.GBSeconds()}
}

// billedInvoker runs activities in-process and reports billedAttempt for
// every attempt of those named "billed-...", failed ones included, as a
// function platform would; others report nothing, as in-process
// activities do.
type billedInvoker struct{ inner faas.Invoker }

func (b billedInvoker) Invoke(ctx context.Context, req faas.Request) ([]byte, error) {
	out, err := b.inner.Invoke(ctx, req)
	if strings.HasPrefix(req.Activity, "billed-") {
		faas.ReportUsage(ctx, billedAttempt)
	}
	return out, err
}

var billedEcho = activity.New("billed-echo", func(ctx context.Context, s string) (string, error) { return s, nil })

// billedFlaky fails its first attempt.
var billedFlaky = activity.New("billed-flaky", func(ctx context.Context, s string) (string, error) {
	if info, _ := activity.InfoFrom(ctx); info.Attempt == 1 {
		return "", activity.NewError("Transient", "the first attempt fails")
	}
	return s, nil
})

var billedFatal = activity.New("billed-fatal", func(ctx context.Context, s string) (string, error) {
	return "", activity.NewNonRetryableError("Fatal", "never succeeds")
})

var freeEcho = activity.New("free-echo", func(ctx context.Context, s string) (string, error) { return s, nil })

// usageChild runs two billed attempts.
var usageChild = orchestration.New("usage-child", func(ctx orchestration.Context, s string) (string, error) {
	a, err := orchestration.Call(ctx, billedEcho, s).Await(ctx)
	if err != nil {
		return "", err
	}
	return orchestration.Call(ctx, billedEcho, a).Await(ctx)
})

// usageParent runs four billed attempts of its own (one, a retried one's
// two, and a failed one), one free, and a child.
var usageParent = orchestration.New("usage-parent", func(ctx orchestration.Context, s string) (string, error) {
	if _, err := orchestration.Call(ctx, billedEcho, s).Await(ctx); err != nil {
		return "", err
	}
	if _, err := orchestration.Call(ctx, billedFlaky, s, orchestration.WithRetry(orchestration.RetryPolicy{
		MaxAttempts: 3, InitialInterval: 10 * time.Millisecond})).Await(ctx); err != nil {
		return "", err
	}
	var ae *orchestration.ActivityError
	if _, err := orchestration.Call(ctx, billedFatal, s).Await(ctx); !errors.As(err, &ae) {
		return "", errors.New("billed-fatal did not fail")
	}
	if _, err := orchestration.Call(ctx, freeEcho, s).Await(ctx); err != nil {
		return "", err
	}
	return orchestration.CallSub(ctx, usageChild, s, orchestration.WithInstanceID(ctx.Info().InstanceID+"-child")).Await(ctx)
})

// usageRuns runs one billed attempt per run, for n+1 runs.
var usageRuns = orchestration.New("usage-runs", func(ctx orchestration.Context, n int) (int, error) {
	if _, err := orchestration.Call(ctx, billedEcho, "run").Await(ctx); err != nil {
		return 0, err
	}
	if n > 0 {
		return 0, orchestration.ContinueAsNew(ctx, n-1)
	}
	return 0, nil
})

// testUsage: the usage an invoker reports for each attempt reaches the
// status: retries and failures count, free attempts do not,
// continue-as-new keeps the sum, and the children's is the parent's
// SubOrchestrationUsage.
func testUsage(t *testing.T, e Engine) {
	ost, ok := e.(OptionsStarter)
	if !ok {
		t.Skip("the engine does not implement conformance.OptionsStarter (a worker with an invoker of the suite's)")
	}
	ctx := testContext(t)
	acts := []activity.Definition{billedEcho, billedFlaky, billedFatal, freeEcho}
	inner, err := faas.NewInProcess(acts, faas.InProcessOptions{})
	require.NoError(t, err)
	c := ost.StartWithOptions(t, worker.Options{Invoker: billedInvoker{inner: inner}}, func(w *worker.Worker) {
		w.RegisterOrchestrators(usageParent, usageChild, usageRuns)
		w.RegisterActivities(acts...)
	})
	subSupported := e.Unsupported(FeatureSubOrchestrationUsage) == ""

	id, err := client.Start(ctx, c, usageParent, "x")
	require.NoError(t, err)
	_, err = client.Result(ctx, c, usageParent, id)
	require.NoError(t, err)
	st, err := c.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, billed(4), st.Usage, "one attempt, a retried activity's two, and a failed one")
	child, err := c.Status(ctx, id+"-child")
	require.NoError(t, err)
	assert.Equal(t, billed(2), child.Usage)
	if subSupported {
		assert.Equal(t, billed(2), st.SubOrchestrationUsage, "the child's")
		assert.Equal(t, billed(6), st.TotalUsage())
		assert.Equal(t, &client.Usage{}, child.SubOrchestrationUsage, "no children")
	} else {
		assert.Nil(t, st.SubOrchestrationUsage, "not available: %s", e.Unsupported(FeatureSubOrchestrationUsage))
		assert.Nil(t, st.TotalUsage())
	}
	waited, err := c.Wait(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, st.Usage, waited.Usage, "Wait's status has it too")

	id, err = client.Start(ctx, c, usageRuns, 2)
	require.NoError(t, err)
	_, err = client.Result(ctx, c, usageRuns, id)
	require.NoError(t, err)
	st, err = c.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, billed(3), st.Usage, "every run's attempts")
}

// testNoUsage: an instance whose activities run in-process shows a zero
// usage, not an unknown one.
func testNoUsage(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(chain)
		w.RegisterActivities(addOne)
	})
	id, err := client.Start(ctx, c, chain, 2)
	require.NoError(t, err)
	_, err = client.Result(ctx, c, chain, id)
	require.NoError(t, err)
	st, err := c.Status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, &client.Usage{}, st.Usage)
	if e.Unsupported(FeatureSubOrchestrationUsage) == "" {
		assert.Equal(t, &client.Usage{}, st.SubOrchestrationUsage)
	}
}
