package billing_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/billing"
)

func TestOf(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   faas.Usage
		want billing.Usage
	}{
		{"whole ms", faas.Usage{BilledDuration: 103 * time.Millisecond, MemoryMB: 128}, billing.Usage{Invocations: 1, BilledMs: 103, MBMs: 103 * 128}},
		{"a fraction rounds up", faas.Usage{BilledDuration: 1500 * time.Microsecond, MemoryMB: 1024}, billing.Usage{Invocations: 1, BilledMs: 2, MBMs: 2048}},
		{"no memory reported", faas.Usage{BilledDuration: time.Second}, billing.Usage{Invocations: 1, BilledMs: 1000}},
		{"nothing billed still counts", faas.Usage{}, billing.Usage{Invocations: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, billing.Of(tt.in))
		})
	}
}

func TestGBSecondsMatchFaas(t *testing.T) {
	u := faas.Usage{BilledDuration: 125 * time.Millisecond, MemoryMB: 1024}
	assert.Equal(t, u.GBSeconds(), billing.Of(u).GBSeconds())
	sum := billing.Of(u).Add(billing.Of(u))
	assert.Equal(t, &client.Usage{Invocations: 2, BilledDuration: 250 * time.Millisecond, GBSeconds: 0.25}, sum.Client())
}

func TestMeter(t *testing.T) {
	var m billing.Meter
	ctx := m.Context(context.Background())
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { faas.ReportUsage(ctx, faas.Usage{BilledDuration: time.Millisecond, MemoryMB: 2}) })
	}
	wg.Wait()
	assert.Equal(t, billing.Usage{Invocations: 10, BilledMs: 10, MBMs: 20}, m.Usage())
	var none *billing.Meter
	assert.True(t, none.Usage().IsZero())
}

func TestReports(t *testing.T) {
	inv, err := faas.NewInProcess(nil, faas.InProcessOptions{})
	assert.NoError(t, err)
	assert.False(t, billing.Reports(inv))
	assert.True(t, billing.Reports(struct{ faas.Invoker }{inv}))
}
