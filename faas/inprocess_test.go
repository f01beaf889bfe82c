package faas_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/activityctx"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type greeting struct {
	Name string `json:"name"`
}

var (
	greet = activity.New("greet", func(ctx context.Context, g greeting) (string, error) {
		return "hello " + g.Name, nil
	})
	fail = activity.New("fail", func(ctx context.Context, g greeting) (string, error) {
		return "", activity.NewNonRetryableError("InsufficientFunds", "balance too low for "+g.Name)
	})
	plainFail = activity.New("plain-fail", func(ctx context.Context, _ greeting) (string, error) {
		return "", errors.New("disk full")
	})
	boom = activity.New("boom", func(ctx context.Context, _ greeting) (string, error) {
		panicHere()
		return "", nil
	})
	info = activity.New("info", func(ctx context.Context, _ greeting) (activity.Info, error) {
		i, _ := activity.InfoFrom(ctx)
		activity.Heartbeat(ctx, "half way")
		return i, nil
	})
)

func panicHere() { panic("kaboom") }

func newInProcess(t *testing.T, opts faas.InProcessOptions, extra ...activity.Definition) *faas.InProcess {
	t.Helper()
	p, err := faas.NewInProcess(append([]activity.Definition{greet, fail, plainFail, boom, info}, extra...), opts)
	require.NoError(t, err)
	return p
}

func TestInProcessOutcomes(t *testing.T) {
	p := newInProcess(t, faas.InProcessOptions{})
	tests := []struct {
		name     string
		activity string
		input    string
		want     string
		kind     faas.Kind
		errType  string
		nonRetry bool
		msg      string
	}{
		{name: "success", activity: "greet", input: `{"name":"ada"}`, want: `"hello ada"`},
		{name: "application error", activity: "fail", input: `{"name":"bob"}`, kind: faas.KindApplication, errType: "InsufficientFunds", nonRetry: true, msg: "balance too low for bob"},
		{name: "plain error", activity: "plain-fail", input: `{}`, kind: faas.KindApplication, errType: core.FailureError, msg: "disk full"},
		{name: "panic", activity: "boom", input: `{}`, kind: faas.KindApplication, errType: core.FailurePanic, msg: "kaboom"},
		{name: "undecodable input", activity: "greet", input: `[1,2]`, kind: faas.KindApplication, errType: core.FailureDecode, nonRetry: true, msg: "does not decode"},
		{name: "unknown activity", activity: "nope", input: `{}`, kind: faas.KindNotFound, errType: core.FailureActivityNotFound, nonRetry: true, msg: `"nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := p.Invoke(context.Background(), faas.Request{Activity: tt.activity, Input: []byte(tt.input), Attempt: 1})
			if tt.kind == "" {
				require.NoError(t, err)
				assert.JSONEq(t, tt.want, string(out))
				return
			}
			var fe *faas.Error
			require.ErrorAs(t, err, &fe)
			assert.ErrorIs(t, err, faas.ErrInvocation)
			assert.Equal(t, tt.kind, fe.Kind)
			assert.Equal(t, tt.errType, fe.Type)
			assert.Equal(t, tt.nonRetry, fe.NonRetryable)
			assert.Contains(t, fe.Message, tt.msg)
			if tt.errType == core.FailurePanic {
				assert.Contains(t, fe.Stack, "panicHere", "the stack names the panicking function")
				assert.Equal(t, core.FailurePanic, failerr.From(fe).Type)
			}
		})
	}
}

func TestInProcessInfoAndHeartbeat(t *testing.T) {
	var mu sync.Mutex
	var beats []string
	p := newInProcess(t, faas.InProcessOptions{OnHeartbeat: func(req faas.Request, d any) {
		mu.Lock()
		defer mu.Unlock()
		beats = append(beats, fmt.Sprintf("%s:%v", req.Activity, d))
	}})
	var ctxBeats []any
	ctx := activityctx.WithHeartbeat(context.Background(), func(d any) { ctxBeats = append(ctxBeats, d) })
	out, err := p.Invoke(ctx, faas.Request{Activity: "info", Input: []byte(`{}`), InstanceID: "i-1", TaskID: 7, Attempt: 2, IdempotencyKey: "i-1/7/2"})
	require.NoError(t, err)
	got, err := codec.Decode[activity.Info](codec.JSON, "info", out)
	require.NoError(t, err)
	assert.Equal(t, activity.Info{ActivityName: "info", InstanceID: "i-1", TaskID: 7, Attempt: 2, IdempotencyKey: "i-1/7/2"}, got)
	assert.Equal(t, []string{"info:half way"}, beats)
	assert.Equal(t, []any{"half way"}, ctxBeats)
}

func TestInProcessTimeoutWhenActivityIgnoresContext(t *testing.T) {
	release := make(chan struct{})
	stuck := activity.New("stuck", func(ctx context.Context, _ greeting) (string, error) {
		<-release // ignores ctx on purpose
		return "late", nil
	})
	p := newInProcess(t, faas.InProcessOptions{DefaultTimeout: 20 * time.Millisecond}, stuck)
	defer close(release)

	_, err := p.Invoke(context.Background(), faas.Request{Activity: "stuck", Input: []byte(`{}`), Attempt: 1})
	var fe *faas.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, faas.KindTimeout, fe.Kind)
	assert.Equal(t, core.FailureTimeout, failerr.From(fe).Type)
}

func TestInProcessQueuesOverConcurrencyLimit(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	hold := activity.New("hold", func(ctx context.Context, _ greeting) (string, error) {
		started <- struct{}{}
		<-release
		return "done", nil
	})
	p := newInProcess(t, faas.InProcessOptions{MaxConcurrent: 1}, hold)

	first := make(chan error, 1)
	go func() {
		_, err := p.Invoke(context.Background(), faas.Request{Activity: "hold", Input: []byte(`{}`)})
		first <- err
	}()
	<-started
	// The only slot is taken: a second attempt waits, and times out waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := p.Invoke(ctx, faas.Request{Activity: "greet", Input: []byte(`{}`)})
	var fe *faas.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, faas.KindTimeout, fe.Kind)
	assert.Contains(t, fe.Message, "waiting for a concurrency slot")

	// A canceled (not timed out) wait is not a timeout.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	_, err = p.Invoke(cctx, faas.Request{Activity: "greet", Input: []byte(`{}`)})
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.As(err, &fe))

	close(release)
	require.NoError(t, <-first)
	out, err := p.Invoke(context.Background(), faas.Request{Activity: "greet", Input: []byte(`{"name":"x"}`)})
	require.NoError(t, err)
	assert.Equal(t, `"hello x"`, string(out))
}

func TestInProcessPayloadLimits(t *testing.T) {
	big := activity.New("big", func(ctx context.Context, n int) (string, error) { return strings.Repeat("x", n), nil })
	p := newInProcess(t, faas.InProcessOptions{Limits: codec.Limits{MaxPayload: 100}}, big)

	_, err := p.Invoke(context.Background(), faas.Request{Activity: "greet", Input: []byte(`{"name":"` + strings.Repeat("a", 200) + `"}`)})
	var fe *faas.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, faas.KindPayloadTooLarge, fe.Kind)
	assert.Contains(t, fe.Message, "211 bytes")
	assert.Contains(t, fe.Message, "limit of 100 bytes")

	_, err = p.Invoke(context.Background(), faas.Request{Activity: "big", Input: []byte(`500`)})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, faas.KindPayloadTooLarge, fe.Kind)
	assert.Contains(t, fe.Message, "result of activity")
}

func TestNewInProcessRejectsBadDefinitions(t *testing.T) {
	_, err := faas.NewInProcess([]activity.Definition{greet, greet}, faas.InProcessOptions{})
	assert.ErrorContains(t, err, `activity "greet" registered twice`)
	_, err = faas.NewInProcess([]activity.Definition{greet, nil}, faas.InProcessOptions{})
	assert.ErrorContains(t, err, "activity 2 of 2 is nil")
}
