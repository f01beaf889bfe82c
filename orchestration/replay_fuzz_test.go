package orchestration_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

// FuzzReplayHistory: the harness's golden-history replay
// (orchestrationtest.ReplayHistory) given any bytes returns promptly and
// without a panic: nil, an error that says it read a history, or a
// replay failure of the code (a NondeterminismError).
func FuzzReplayHistory(f *testing.F) {
	for _, file := range []string{golden, "testdata/bad/order-renamed-activity.json", "testdata/bad/not-a-history.json"} {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(b)
		f.Add(bytes.ReplaceAll(b, []byte(`"reserve"`), []byte(`"charge"`)))
		f.Add(bytes.ReplaceAll(b, []byte(`"taskId": 2`), []byte(`"taskId": 99999999999`)))
		f.Add(bytes.ReplaceAll(b, []byte(`"ActivityCompleted"`), []byte(`"ActivityFailed"`)))
		f.Add(bytes.ReplaceAll(b, []byte(`"OrchestrationCompleted"`), []byte(`"EventRaised"`)))
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte(`{"format":"cloudbutton.history/v1","name":"order","events":[{"type":"OrchestrationStarted","payload":{"$b64":"/w=="}}]}`))
	f.Add([]byte(`{"format":"cloudbutton.history/v1","name":"other","events":[{"type":"OrchestrationStarted"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			t.Skip("bounded input")
		}
		done := make(chan error, 1)
		go func() { done <- orchestrationtest.ReplayHistory(bytes.NewReader(data), orderVersioned, orderV2Only) }()
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("ReplayHistory hangs on %q", data)
		}
		if err == nil {
			return
		}
		var nd *orchestration.NondeterminismError
		if !errors.As(err, &nd) && !strings.Contains(err.Error(), "history") {
			t.Fatalf("the error says neither that it read a history nor how the code diverged: %v", err)
		}
	})
}
