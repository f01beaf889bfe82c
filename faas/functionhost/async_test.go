package functionhost_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
)

func eventInvoke(t *testing.T, c *lambda.Client, fn string, payload []byte) error {
	t.Helper()
	out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: payload, InvocationType: types.InvocationTypeEvent})
	if err == nil {
		assert.Equal(t, int32(202), out.StatusCode)
	}
	return err
}

func envelopeOf(t *testing.T, act, input string) []byte {
	b, err := lambdawire.EncodeEnvelope(req(act, input))
	require.NoError(t, err)
	return b
}

// TestAsyncInvokesAllRun: 200 Event invokes of a function with
// concurrency 10 in throttle mode all run. Before, all got 202 but only
// 15-51 ran, without a log line: the excess was throttled away.
func TestAsyncInvokesAllRun(t *testing.T) {
	var ran atomic.Int64
	count := activity.New("count", func(ctx context.Context, _ int) (int, error) {
		time.Sleep(time.Millisecond)
		return int(ran.Add(1)), nil
	})
	h, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"counted": {Activity: "count", Concurrency: 10, OnLimit: functionhost.Throttle},
	}}, count)
	client := newClient(t, url)
	for i := 0; i < 200; i++ {
		require.NoError(t, eventInvoke(t, client, "counted", envelopeOf(t, "count", fmt.Sprint(i))))
	}
	require.Eventually(t, func() bool { return ran.Load() == 200 }, 60*time.Second, 5*time.Millisecond, "ran %d of 200", ran.Load())
	require.Eventually(t, func() bool { st, _ := h.Stats("counted"); return st.AsyncQueued == 0 }, 10*time.Second, 5*time.Millisecond)
	st, _ := h.Stats("counted")
	assert.Equal(t, int64(200), st.AsyncAccepted)
	assert.Zero(t, st.Throttles, "queued events wait for a slot, they are never throttled")
	assert.Zero(t, st.AsyncFailed)
}

// TestAsyncRetriesFunctionErrors: like Lambda, a failing event is run
// three times in all (two retries), then kept in the spool's failed/
// directory with its error; one that fails twice then succeeds is done.
func TestAsyncRetriesFunctionErrors(t *testing.T) {
	var always, twice atomic.Int64
	fails := activity.New("always-fails", func(ctx context.Context, _ int) (int, error) {
		always.Add(1)
		return 0, fmt.Errorf("attempt %d fails", always.Load())
	})
	flaky := activity.New("fails-twice", func(ctx context.Context, _ int) (int, error) {
		if twice.Add(1) <= 2 {
			return 0, fmt.Errorf("not yet")
		}
		return 1, nil
	})
	spool := t.TempDir()
	one := 1
	h, url := startHostWith(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"fails":     {Activity: "always-fails", Async: functionhost.AsyncConfig{RetryDelay: 10 * time.Millisecond}},
		"flaky":     {Activity: "fails-twice", Async: functionhost.AsyncConfig{RetryDelay: 10 * time.Millisecond}},
		"one-retry": {Activity: "always-fails", Async: functionhost.AsyncConfig{MaxRetries: &one, RetryDelay: 10 * time.Millisecond}},
	}}, functionhost.Options{Activities: []activity.Definition{fails, flaky}, SpoolDir: spool})
	client := newClient(t, url)
	require.NoError(t, eventInvoke(t, client, "fails", envelopeOf(t, "always-fails", "1")))
	require.NoError(t, eventInvoke(t, client, "flaky", envelopeOf(t, "fails-twice", "1")))

	require.Eventually(t, func() bool { st, _ := h.Stats("fails"); return st.AsyncFailed == 1 }, 60*time.Second, 5*time.Millisecond)
	assert.Equal(t, int64(3), always.Load(), "run once, retried twice")
	st, _ := h.Stats("fails")
	assert.Equal(t, int64(2), st.AsyncRetries)
	failed, err := filepath.Glob(filepath.Join(spool, "fails", "failed", "*.event"))
	require.NoError(t, err)
	require.Len(t, failed, 1, "the event is kept, not lost")
	reason, err := os.ReadFile(strings.TrimSuffix(failed[0], ".event") + ".error")
	require.NoError(t, err)
	assert.Contains(t, string(reason), "failed 3 times")
	assert.Contains(t, string(reason), "attempt 3 fails")

	require.Eventually(t, func() bool { return twice.Load() == 3 }, 60*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { st, _ := h.Stats("flaky"); return st.AsyncQueued == 0 }, 10*time.Second, 5*time.Millisecond)
	st, _ = h.Stats("flaky")
	assert.Zero(t, st.AsyncFailed)
	require.Eventually(t, func() bool {
		left, _ := filepath.Glob(filepath.Join(spool, "flaky", "*.event"))
		return len(left) == 0
	}, 30*time.Second, 5*time.Millisecond, "a done event leaves the spool")

	always.Store(0)
	require.NoError(t, eventInvoke(t, client, "one-retry", envelopeOf(t, "always-fails", "1")))
	require.Eventually(t, func() bool { st, _ := h.Stats("one-retry"); return st.AsyncFailed == 1 }, 60*time.Second, 5*time.Millisecond)
	assert.Equal(t, int64(2), always.Load(), "maxRetries: 1")
}

// TestAsyncPayloadLimit: Lambda refuses Event payloads over 1 MB with 413
// (before, the host took up to 6 MB).
func TestAsyncPayloadLimit(t *testing.T) {
	_, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"local": {InProcess: true}}})
	client := newClient(t, url)
	at := []byte(`"` + strings.Repeat("a", functionhost.MaxAsyncPayload-2) + `"`)
	require.NoError(t, eventInvoke(t, client, "local", at), "exactly 1 MB is accepted")
	err := eventInvoke(t, client, "local", []byte(`"`+strings.Repeat("a", functionhost.MaxAsyncPayload-1)+`"`))
	var ae smithy.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "RequestEntityTooLargeException", ae.ErrorCode())
	assert.Contains(t, ae.ErrorMessage(), "Request must be smaller than 1048576 bytes")
}

// TestAsyncQueueCostsDiskNotMemory: 60 queued events of 1 MB each while
// the function is busy leave the host's heap about where it was; they
// wait in the spool. Before, 60 events of 6 MB took the host from 30 MB
// to 578 MB.
func TestAsyncQueueCostsDiskNotMemory(t *testing.T) {
	g, gateAct := newGate("hold")
	spool := t.TempDir()
	h, url := startHostWith(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"held": {InProcess: true, Concurrency: 1, Timeout: time.Hour},
	}}, functionhost.Options{Activities: []activity.Definition{gateAct}, SpoolDir: spool})
	client := newClient(t, url)
	require.NoError(t, eventInvoke(t, client, "held", envelopeOf(t, "hold", `{}`)))
	<-g.started // the only slot is taken: what follows queues

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	before := heap()
	big := envelopeOf(t, "greet", `"`+strings.Repeat("a", functionhost.MaxAsyncPayload-200)+`"`)
	for i := 0; i < 60; i++ {
		require.NoError(t, eventInvoke(t, client, "held", big))
	}
	grown := int64(heap()) - int64(before)
	assert.Less(t, grown, int64(20<<20), "60 MB of queued payloads are on disk, not in memory (heap grew %d bytes)", grown)
	files, _ := filepath.Glob(filepath.Join(spool, "held", "*.event"))
	assert.Len(t, files, 61)
	st, _ := h.Stats("held")
	assert.Equal(t, int64(60), st.AsyncQueued)

	close(g.release)
	require.Eventually(t, func() bool { st, _ := h.Stats("held"); return st.AsyncQueued == 0 && st.Invocations == 61 }, 60*time.Second, 5*time.Millisecond)
}

// TestAsyncSpoolOutlivesTheHost: events queued when a host closes run on
// the next host started on the same spool directory.
func TestAsyncSpoolOutlivesTheHost(t *testing.T) {
	var ran atomic.Int64
	count := activity.New("count", func(ctx context.Context, _ int) (int, error) { return int(ran.Add(1)), nil })
	g, gateAct := newGate("hold")
	spool := t.TempDir()
	cfg := &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"fn": {InProcess: true, Concurrency: 1, Timeout: time.Hour}}}
	first, err := functionhost.New(cfg, functionhost.Options{Activities: []activity.Definition{count, gateAct}, SpoolDir: spool, AccessKeyID: "local", SecretAccessKey: "local"})
	require.NoError(t, err)
	url, err := first.Start("127.0.0.1:0")
	require.NoError(t, err)
	client := newClient(t, url)
	require.NoError(t, eventInvoke(t, client, "fn", envelopeOf(t, "hold", `{}`)))
	<-g.started
	for i := 0; i < 5; i++ {
		require.NoError(t, eventInvoke(t, client, "fn", envelopeOf(t, "count", "1")))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, first.Close(ctx))
	close(g.release) // the abandoned attempt's goroutine ends
	assert.Zero(t, ran.Load())

	startHostWith(t, cfg, functionhost.Options{Activities: []activity.Definition{count, gateAct}, SpoolDir: spool})
	require.Eventually(t, func() bool { return ran.Load() == 5 }, 60*time.Second, 5*time.Millisecond,
		"the next host runs what was queued (%d of 5)", ran.Load())
	<-g.started // and the interrupted attempt is run again
}

// TestAsyncQueueOfADeletedFunction: deleting a function drops its queued
// events, as Lambda does: they do not run, and a function created again
// under the name does not pick them up.
func TestAsyncQueueOfADeletedFunction(t *testing.T) {
	var ran atomic.Int64
	count := activity.New("count", func(ctx context.Context, _ int) (int, error) { return int(ran.Add(1)), nil })
	g, gateAct := newGate("hold")
	spool := t.TempDir()
	h, url := startHostWith(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"fn": {InProcess: true, Concurrency: 1, Timeout: time.Hour},
	}}, functionhost.Options{Activities: []activity.Definition{count, gateAct}, SpoolDir: spool})
	client := newClient(t, url)
	require.NoError(t, eventInvoke(t, client, "fn", envelopeOf(t, "hold", `{}`)))
	<-g.started
	for i := 0; i < 3; i++ {
		require.NoError(t, eventInvoke(t, client, "fn", envelopeOf(t, "count", "1")))
	}
	_, err := client.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String("fn")})
	require.NoError(t, err)
	close(g.release)
	_, err = os.Stat(filepath.Join(spool, "fn"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the deleted function's spool is gone")
	_, ok := h.Stats("fn")
	assert.False(t, ok)
	assert.Zero(t, ran.Load(), "queued events of a deleted function do not run")
}

// TestAsyncCorruptSpoolFile: a spool file that is not an event is moved
// to failed/ at start, with a reason, and the host serves.
func TestAsyncCorruptSpoolFile(t *testing.T) {
	spool := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(spool, "local"), 0o700))
	bad := filepath.Join(spool, "local", "00000000000000000001-x.event")
	require.NoError(t, os.WriteFile(bad, []byte("not an event"), 0o600))
	_, url := startHostWith(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"local": {InProcess: true}}},
		functionhost.Options{SpoolDir: spool})
	_, err := os.Stat(filepath.Join(spool, "local", "failed", filepath.Base(bad)))
	require.NoError(t, err, "moved to failed/")
	reason, err := os.ReadFile(filepath.Join(spool, "local", "failed", "00000000000000000001-x.error"))
	require.NoError(t, err)
	assert.Contains(t, string(reason), "unreadable")
	out, err := newInvoker(t, url, awslambda.Options{DefaultFunction: "local"}).Invoke(context.Background(), req("greet", `"ada"`))
	require.NoError(t, err)
	assert.Equal(t, `"hello, ada"`, string(out))
}
