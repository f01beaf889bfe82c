package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
	"github.com/cloudbutton/cloudbutton/internal/bench"
	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
)

func TestPrintStatusUsage(t *testing.T) {
	billed := &client.Usage{Invocations: 3, BilledDuration: 300 * time.Millisecond, GBSeconds: 0.375}
	child := &client.Usage{Invocations: 1, BilledDuration: 100 * time.Millisecond, GBSeconds: 0.125}
	for _, tt := range []struct {
		name     string
		own, sub *client.Usage
		want     []string
	}{
		{"billed, no children", billed, &client.Usage{}, []string{"Usage  3 invocations, 300ms billed, 0.375 GB-s"}},
		{"billed children", billed, child, []string{"Usage  3 invocations, 300ms billed, 0.375 GB-s",
			"With children  4 invocations, 400ms billed, 0.5 GB-s"}},
		{"in-process", &client.Usage{}, &client.Usage{}, []string{"Usage  none billed"}},
		{"unknown", nil, nil, []string{"Usage  not available", "With children  not available"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &client.Status{InstanceID: "i", Name: "o", RuntimeStatus: client.StatusCompleted, Usage: tt.own, SubOrchestrationUsage: tt.sub}
			var out bytes.Buffer
			printStatus(&out, st)
			text := squeeze(out.String())
			for _, w := range tt.want {
				assert.Contains(t, text, w)
			}
			if tt.sub != nil && tt.sub.IsZero() {
				assert.NotContains(t, text, "With children")
			}
		})
	}
}

// squeeze collapses runs of spaces (tabwriter padding) into two.
func squeeze(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, "  "); ok {
			l = k + "  " + strings.TrimLeft(v, " ")
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// TestStatusShowsUsageFromTheLocalHost: a worker whose activities run on
// the local function host (through the Lambda invoker) records what each
// invocation was billed, and `status` shows it, in its table and in JSON.
func TestStatusShowsUsageFromTheLocalHost(t *testing.T) {
	h, err := functionhost.New(&functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"acts": {InProcess: true, MemoryMB: 512},
	}}, functionhost.Options{Activities: bench.Activities(), Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		id, secret := h.Credentials()
		t.Setenv("AWS_ACCESS_KEY_ID", id) // as a user exports what functions serve prints
		t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	}
	require.NoError(t, err)
	url, err := h.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, h.Close(ctx))
	})
	db := filepath.Join(t.TempDir(), "usage.db")
	ctx, stop := context.WithCancel(context.Background())
	var errOut syncbuf.Buffer
	workerDone := make(chan int)
	go func() {
		workerDone <- Run(ctx, benchRegs, []string{"--db", db, "worker", "--invoker", "lambda", "--lambda-endpoint", url,
			"--lambda-function", "acts"}, &bytes.Buffer{}, &errOut)
	}()
	t.Cleanup(func() {
		stop()
		assert.Equal(t, ExitOK, <-workerDone, "the worker stops cleanly on interrupt: %s", errOut.String())
	})
	require.Eventually(t, func() bool { return strings.Contains(errOut.String(), "worker running") }, 10*time.Second, 10*time.Millisecond,
		"worker output: %s", errOut.String())

	code, out, errText := cli(t, "--db", db, "start", "bench.fanout", "5", "--id", "f1", "--wait", "--timeout", "1m")
	require.Equal(t, ExitOK, code, errText)
	assert.Equal(t, "f1\n10\n", out)

	code, out, _ = cli(t, "--db", db, "status", "f1", "--json")
	require.Equal(t, ExitOK, code)
	var st struct {
		Usage, SubOrchestrationUsage, TotalUsage *client.Usage
	}
	require.NoError(t, json.Unmarshal([]byte(out), &st), out)
	require.NotNil(t, st.Usage, out)
	assert.Equal(t, int64(5), st.Usage.Invocations, "one billed invocation per activity")
	assert.Positive(t, st.Usage.GBSeconds)
	assert.InDelta(t, st.Usage.BilledDuration.Seconds()/2, st.Usage.GBSeconds, 1e-12, "512 MB")
	assert.Equal(t, &client.Usage{}, st.SubOrchestrationUsage)
	assert.Equal(t, st.Usage, st.TotalUsage)

	code, out, _ = cli(t, "--db", db, "status", "f1")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, squeeze(out), "Usage  "+st.Usage.String())
}
