// Package billing counts the billed compute of activity attempts (what
// invokers report with faas.ReportUsage) in exact integer units, for the
// engines to record with each attempt's outcome.
package billing

import (
	"context"
	"sync"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/faas"
)

// Usage is a sum of billed attempts: their number, their billed
// milliseconds, and their billed milliseconds times memory MB (Lambda
// bills whole milliseconds of a memory size in MB, so the sums are exact).
// The zero value is no usage. Its JSON form is what engines store.
type Usage struct {
	Invocations int64 `json:"invocations,omitempty"`
	BilledMs    int64 `json:"billedMs,omitempty"`
	MBMs        int64 `json:"mbMs,omitempty"`
}

// Of is the usage of one billed attempt: its billed duration rounded up to
// a whole millisecond, times its memory size.
func Of(u faas.Usage) Usage {
	ms := int64((u.BilledDuration + time.Millisecond - 1) / time.Millisecond)
	if ms < 0 {
		ms = 0
	}
	return Usage{Invocations: 1, BilledMs: ms, MBMs: ms * int64(max(u.MemoryMB, 0))}
}

// IsZero reports whether nothing was billed.
func (u Usage) IsZero() bool { return u == Usage{} }

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{Invocations: u.Invocations + v.Invocations, BilledMs: u.BilledMs + v.BilledMs, MBMs: u.MBMs + v.MBMs}
}

// GBSeconds is the billed GB-seconds: MB-milliseconds / 1024 / 1000.
func (u Usage) GBSeconds() float64 { return float64(u.MBMs) / (1024 * 1000) }

// Client is u as the client package shows it.
func (u Usage) Client() *client.Usage {
	return &client.Usage{Invocations: u.Invocations, BilledDuration: time.Duration(u.BilledMs) * time.Millisecond, GBSeconds: u.GBSeconds()}
}

// Meter collects the usage an invoker reports for one attempt. The zero
// value is ready; it is safe for concurrent use (an invoker may report
// from another goroutine).
type Meter struct {
	mu sync.Mutex
	u  Usage
}

// Context returns ctx with a usage reporter that adds to m
// (faas.WithUsageReporter).
func (m *Meter) Context(ctx context.Context) context.Context {
	return faas.WithUsageReporter(ctx, m.report)
}

func (m *Meter) report(u faas.Usage) {
	m.mu.Lock()
	m.u = m.u.Add(Of(u))
	m.mu.Unlock()
}

// Usage returns what was reported so far; a nil m reports none.
func (m *Meter) Usage() Usage {
	if m == nil {
		return Usage{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.u
}

// Reports reports whether inv may report usage: every invoker but the
// in-process one, which runs activities in the worker and knows no
// billing. Engines skip the meter for it, so that it costs nothing.
func Reports(inv faas.Invoker) bool {
	_, inProcess := inv.(*faas.InProcess)
	return !inProcess
}
