package faas_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas"
)

func TestUsageReporting(t *testing.T) {
	faas.ReportUsage(context.Background(), faas.Usage{MemoryMB: 1}) // no reporter: nothing happens
	var got []faas.Usage
	ctx := faas.WithUsageReporter(context.Background(), func(u faas.Usage) { got = append(got, u) })
	faas.ReportUsage(ctx, faas.Usage{MemoryMB: 128})
	assert.Equal(t, []faas.Usage{{MemoryMB: 128}}, got)

	inner := faas.WithUsageReporter(ctx, nil) // a nil reporter silences the outer one
	faas.ReportUsage(inner, faas.Usage{MemoryMB: 256})
	assert.Len(t, got, 1)
}

func TestGBSeconds(t *testing.T) {
	tests := []struct {
		u    faas.Usage
		want float64
	}{
		{faas.Usage{}, 0},
		{faas.Usage{BilledDuration: time.Second, MemoryMB: 1024}, 1},
		{faas.Usage{BilledDuration: 103 * time.Millisecond, MemoryMB: 128}, 0.012875},
		{faas.Usage{BilledDuration: 15 * time.Minute, MemoryMB: 10240}, 9000},
	}
	for _, tt := range tests {
		assert.InDelta(t, tt.want, tt.u.GBSeconds(), 1e-12, "%+v", tt.u)
	}
}

func TestInProcessReportsNoUsage(t *testing.T) {
	inv, err := faas.NewInProcess([]activity.Definition{activity.New("id", func(ctx context.Context, n int) (int, error) { return n, nil })}, faas.InProcessOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reported := false
	ctx := faas.WithUsageReporter(context.Background(), func(faas.Usage) { reported = true })
	_, err = inv.Invoke(ctx, faas.Request{Activity: "id", Input: []byte("1"), Attempt: 1})
	assert.NoError(t, err)
	assert.False(t, reported)
}
