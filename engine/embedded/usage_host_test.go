package embedded_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/samples/lambdafunc/activities"
	"github.com/cloudbutton/cloudbutton/worker"
)

// greetAndFail greets twice, then calls an activity that fails every
// attempt, twice (a retry): four invocations.
var greetAndFail = orchestration.New("greet-and-fail", func(ctx orchestration.Context, name string) (string, error) {
	g, err := orchestration.Call(ctx, activities.Greet, name).Await(ctx)
	if err != nil {
		return "", err
	}
	if g, err = orchestration.Call(ctx, activities.Greet, g).Await(ctx); err != nil {
		return "", err
	}
	_, err = orchestration.Call(ctx, activities.Fail, activities.Failure{Type: "Flaky", Message: "always"},
		orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 2, InitialInterval: time.Millisecond})).Await(ctx)
	if err == nil {
		return "", nil
	}
	return g, nil
})

// buildBootstrap builds the samples/lambdafunc bootstrap.
func buildBootstrap(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, "github.com/cloudbutton/cloudbutton/samples/lambdafunc")
	cmd.Env = append(os.Environ(), "GOOS="+runtime.GOOS, "CGO_ENABLED=0")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "building the sample bootstrap: %s", b)
	return out
}

// TestUsageFromTheLocalHost runs an orchestration whose activities are
// invocations of the real sample bootstrap on the local function host,
// through the Lambda invoker: the status shows every invocation billed
// (the retry's two attempts included), with the GB-seconds of the
// function's memory size.
func TestUsageFromTheLocalHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a bootstrap")
	}
	const memoryMB = 256
	h, err := functionhost.New(&functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"samples": {Bootstrap: buildBootstrap(t), MemoryMB: memoryMB, Timeout: 10 * time.Second},
	}}, functionhost.Options{Logger: quiet(), AccessKeyID: "local", SecretAccessKey: "local"})
	require.NoError(t, err)
	url, err := h.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, h.Close(ctx))
	})
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	lc, err := awslambda.NewClient(context.Background(), awslambda.ClientConfig{
		Region: "us-east-1", Endpoint: url, AccessKeyID: "local", SecretAccessKey: "local", HTTPClient: &http.Client{Transport: tr},
	})
	require.NoError(t, err)
	inv, err := awslambda.New(lc, awslambda.Options{DefaultFunction: "samples", Logger: quiet()})
	require.NoError(t, err)

	eng, err := embedded.Open(context.Background(), filepath.Join(t.TempDir(), "usage.db"), embedded.Options{Logger: quiet()})
	require.NoError(t, err)
	w := worker.New(eng, worker.Options{Invoker: inv, Logger: quiet()})
	w.RegisterOrchestrators(greetAndFail)
	w.RegisterActivities(activities.All()...)
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() {
		assert.NoError(t, w.Stop(context.Background()))
		assert.NoError(t, eng.Close())
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := client.Start(ctx, eng, greetAndFail, "usage")
	require.NoError(t, err)
	got, err := client.Result(ctx, eng, greetAndFail, id)
	require.NoError(t, err)
	assert.Equal(t, "hello, hello, usage", got)

	st, err := eng.Status(ctx, id)
	require.NoError(t, err)
	require.NotNil(t, st.Usage)
	t.Logf("usage: %s", st.Usage)
	assert.Equal(t, int64(4), st.Usage.Invocations, "two greetings and a failed activity's two attempts")
	assert.Positive(t, st.Usage.BilledDuration)
	assert.Zero(t, st.Usage.BilledDuration%time.Millisecond, "whole milliseconds")
	assert.Positive(t, st.Usage.GBSeconds)
	assert.InDelta(t, st.Usage.BilledDuration.Seconds()*memoryMB/1024, st.Usage.GBSeconds, 1e-12, "billed seconds times the memory size in GB")
	var buf bytesBuffer
	require.NoError(t, eng.ExportHistory(ctx, id, &buf))
	hist, err := replay.ReadHistory(&buf)
	require.NoError(t, err)
	assert.Equal(t, st.Usage, hist.Usage, "the history export shows it too")
	stats, _ := h.Stats("samples")
	assert.Equal(t, int64(4), stats.Invocations, "the host ran as many invocations")
}
