package embedded_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/internal/conformance"
	"github.com/cloudbutton/cloudbutton/worker"
)

// conformanceEngine runs the suite on a fresh SQLite file per case.
type conformanceEngine struct{}

func (conformanceEngine) Start(t *testing.T, register func(w *worker.Worker)) client.Client {
	quiet := slog.New(slog.DiscardHandler)
	eng, err := embedded.Open(context.Background(), filepath.Join(t.TempDir(), "conformance.db"), embedded.Options{Logger: quiet})
	require.NoError(t, err)
	w := worker.New(eng, worker.Options{Logger: quiet})
	register(w)
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() {
		require.NoError(t, w.Stop(context.Background()))
		require.NoError(t, eng.Close())
	})
	return eng
}

func (conformanceEngine) Unsupported(conformance.Feature) string { return "" }

func TestConformance(t *testing.T) { conformance.Run(t, conformanceEngine{}) }
