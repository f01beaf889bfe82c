package awslambda_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
	"github.com/cloudbutton/cloudbutton/internal/lambdatest"
)

// usageRecorder collects what an invoker reports.
type usageRecorder struct {
	mu   sync.Mutex
	seen []faas.Usage
}

func (r *usageRecorder) ctx() context.Context {
	return faas.WithUsageReporter(context.Background(), func(u faas.Usage) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.seen = append(r.seen, u)
	})
}

func (r *usageRecorder) all() []faas.Usage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]faas.Usage(nil), r.seen...)
}

func logResult(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

const awsReport = "START RequestId: r1 Version: $LATEST\nEND RequestId: r1\n" +
	"REPORT RequestId: r1\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\tInit Duration: 45.12 ms\t\n"

var awsUsage = faas.Usage{RequestID: "r1", Duration: 102250 * time.Microsecond, BilledDuration: 103 * time.Millisecond,
	MemoryMB: 128, MaxMemoryUsedMB: 18, InitDuration: 45120 * time.Microsecond}

func TestUsageFromTheLogTail(t *testing.T) {
	tests := []struct {
		name    string
		opts    awslambda.Options
		resp    func(http.ResponseWriter)
		tail    bool // LogType Tail asked for
		want    []faas.Usage
		failure bool
	}{
		{"result", awslambda.Options{}, ok(`"done"`, "X-Amz-Log-Result", logResult(awsReport)), true, []faas.Usage{awsUsage}, false},
		{"function error", awslambda.Options{}, ok(`{"errorType":"E","errorMessage":"m"}`, "X-Amz-Function-Error", "Unhandled", "X-Amz-Log-Result", logResult(awsReport)), true, []faas.Usage{awsUsage}, true},
		{"no REPORT line", awslambda.Options{}, ok(`"done"`, "X-Amz-Log-Result", logResult("START RequestId: r1\n")), true, nil, false},
		{"no log", awslambda.Options{}, ok(`"done"`), true, nil, false},
		{"not a log", awslambda.Options{}, ok(`"done"`, "X-Amz-Log-Result", "!!not base64"), true, nil, false},
		{"throttled: it did not run", awslambda.Options{Retry: awslambda.RetryOptions{MaxTries: 1}}, serviceError(429, "TooManyRequestsException"), true, nil, true},
		{"turned off", awslambda.Options{NoLogTail: true}, ok(`"done"`), false, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeLambda{script: []func(http.ResponseWriter){tt.resp}}
			inv := newInvoker(t, f, tt.opts)
			var rec usageRecorder
			_, err := inv.Invoke(rec.ctx(), faas.Request{Activity: "act", Input: []byte(`1`)})
			assert.Equal(t, tt.failure, err != nil, "%v", err)
			require.Equal(t, 1, f.count())
			if tt.tail {
				assert.Equal(t, "Tail", f.requests[0].Header.Get("X-Amz-Log-Type"))
			} else {
				assert.Empty(t, f.requests[0].Header.Get("X-Amz-Log-Type"))
			}
			assert.Equal(t, tt.want, rec.all())
		})
	}
}

// TestUsageFromTheHost: the local function host's REPORT line reaches the
// reporter, through the real SDK client.
func TestUsageFromTheHost(t *testing.T) {
	echo := activity.New("echo", func(ctx context.Context, s string) (string, error) { return s, nil })
	h, err := functionhost.New(&functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"fn": {Activity: "echo", MemoryMB: 512},
	}}, functionhost.Options{Activities: []activity.Definition{echo}, Logger: slog.New(slog.DiscardHandler), AccessKeyID: "local", SecretAccessKey: "local"})
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
	client, err := awslambda.NewClient(context.Background(), awslambda.ClientConfig{
		Region: "us-east-1", Endpoint: url, AccessKeyID: "local", SecretAccessKey: "local", HTTPClient: &http.Client{Transport: tr},
	})
	require.NoError(t, err)
	inv, err := awslambda.New(client, awslambda.Options{DefaultFunction: "fn"})
	require.NoError(t, err)

	for range 2 {
		var rec usageRecorder
		out, err := inv.Invoke(rec.ctx(), faas.Request{Activity: "echo", Input: []byte(`"hi"`), Attempt: 1})
		require.NoError(t, err)
		assert.Equal(t, `"hi"`, string(out))
		got := rec.all()
		require.Len(t, got, 1, "one report per invocation")
		assert.NotEmpty(t, got[0].RequestID)
		assert.Equal(t, 512, got[0].MemoryMB)
		assert.Positive(t, got[0].BilledDuration)
		assert.InDelta(t, got[0].BilledDuration.Seconds()*0.5, got[0].GBSeconds(), 1e-12)
	}
}

// TestNoUsageOnRIE: the emulator ignores LogType Tail, so nothing is
// reported; the invocation is unaffected.
func TestNoUsageOnRIE(t *testing.T) {
	inv, _ := rieInvoker(t, lambdatest.BuildPlain(t), lambdatest.Options{Timeout: time.Minute})
	var rec usageRecorder
	_, err := inv.Invoke(rec.ctx(), faas.Request{Activity: lambdatest.CaseEcho, Attempt: 1})
	require.NoError(t, err)
	assert.Empty(t, rec.all())
}
