package worker_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/worker"
)

// recordingEngine keeps what StartWorker was given (a unit test of the
// worker's own logic; the engines have their own tests).
type recordingEngine struct{ opts worker.Options }

func (r *recordingEngine) StartWorker(_ context.Context, _ *worker.Registry, opts worker.Options) (func(context.Context) error, error) {
	r.opts = opts
	return func(context.Context) error { return nil }, nil
}

var noop = activity.New("noop", func(ctx context.Context, _ struct{}) (struct{}, error) { return struct{}{}, nil })

func TestWorkerOwnsItsDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   worker.Options
		want func(t *testing.T, o worker.Options)
	}{
		{"zero options get the defaults", worker.Options{}, func(t *testing.T, o worker.Options) {
			assert.Equal(t, worker.DefaultMaxConcurrentActivities, o.MaxConcurrentActivities)
			assert.Equal(t, worker.DefaultStartToClose, o.DefaultStartToClose)
			assert.Equal(t, worker.DefaultCacheSize, o.CacheSize)
			assert.NotNil(t, o.Logger)
		}},
		{"set values are kept", worker.Options{MaxConcurrentActivities: 3, CacheSize: 7}, func(t *testing.T, o worker.Options) {
			assert.Equal(t, 3, o.MaxConcurrentActivities)
			assert.Equal(t, 7, o.CacheSize)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := &recordingEngine{}
			w := worker.New(eng, tt.in)
			require.NoError(t, w.Start(context.Background()))
			tt.want(t, eng.opts)
		})
	}
}

func TestRegistrationsFreezeAtStart(t *testing.T) {
	w := worker.New(&recordingEngine{}, worker.Options{})
	w.RegisterActivities(noop)
	require.NoError(t, w.Start(context.Background()))
	err := w.Registry().AddActivities(activity.New("late", func(ctx context.Context, _ struct{}) (struct{}, error) { return struct{}{}, nil }))
	require.ErrorIs(t, err, worker.ErrFrozen)
	assert.Contains(t, err.Error(), `"late"`)
	assert.PanicsWithError(t, err.Error(), func() {
		w.RegisterActivities(activity.New("late", func(ctx context.Context, _ struct{}) (struct{}, error) { return struct{}{}, nil }))
	})
	_, ok := w.Registry().Activity("late")
	assert.False(t, ok)
}
