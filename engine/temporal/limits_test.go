package temporal_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/worker"
)

// TestKeyLimitsAndStartKeysRefused: what is not mapped onto Temporal yet
// is refused with ErrUnsupported, never ignored: a worker with per-key
// limits, and deduplicated or debounced starts (nothing is started).
func TestKeyLimitsAndStartKeysRefused(t *testing.T) {
	eng := openEngine(t, temporal.Options{})
	ctx := context.Background()
	w := worker.New(eng, worker.Options{Logger: quietLogger(), KeyLimits: []worker.KeyLimit{{Key: "api", MaxInFlight: 1}}})
	err := w.Start(ctx)
	require.ErrorIs(t, err, temporal.ErrUnsupported)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
	assert.Contains(t, err.Error(), "KeyLimits")
	for _, opts := range []client.StartOptions{
		{InstanceID: "dedup-1", DedupKey: "k", DedupWindow: time.Hour},
		{InstanceID: "debounce-1", DedupKey: "k", DedupWindow: time.Hour, Debounce: true},
	} {
		_, err := eng.StartRaw(ctx, "anything", []byte(`1`), opts)
		require.ErrorIs(t, err, temporal.ErrUnsupported)
		_, err = eng.Status(ctx, opts.InstanceID)
		assert.ErrorIs(t, err, client.ErrNotFound, "nothing started")
	}
}
