package faas

import (
	"context"
	"time"
)

// Usage is what one invocation used, as the platform reports it (for
// Lambda: the REPORT line of the invocation's log). Zero fields were not
// reported.
type Usage struct {
	// RequestID is the platform's id of the invocation.
	RequestID string
	// Duration is how long the invocation ran.
	Duration time.Duration
	// BilledDuration is the duration billed (for Lambda's custom
	// runtimes, the init phase included).
	BilledDuration time.Duration
	// MemoryMB is the function's configured memory size.
	MemoryMB int
	// MaxMemoryUsedMB is the most memory the invocation used.
	MaxMemoryUsedMB int
	// InitDuration is the cold start's initialisation; zero when the
	// invocation ran in a warm environment.
	InitDuration time.Duration
}

// GBSeconds is the billed compute: billed seconds times the memory size
// in GB (MemoryMB/1024), Lambda's unit of pricing.
func (u Usage) GBSeconds() float64 {
	return u.BilledDuration.Seconds() * float64(u.MemoryMB) / 1024
}

type usageReporterKey struct{}

// WithUsageReporter returns a context in which invokers report the usage
// of the invocations they run (see ReportUsage) to report. The caller of
// Invoke installs it: report runs before Invoke returns, at most once per
// attempt an invoker ran, failed attempts included, and not at all when
// the invoker knows no usage (the in-process invoker) or the attempt did
// not run. It may run on another goroutine than Invoke's caller; a
// reporter shared by concurrent calls must be safe for that.
func WithUsageReporter(ctx context.Context, report func(Usage)) context.Context {
	return context.WithValue(ctx, usageReporterKey{}, report)
}

// ReportUsage reports u for the attempt that ctx (Invoke's context) is
// running, to the reporter of WithUsageReporter; without one it does
// nothing. Invokers call it.
func ReportUsage(ctx context.Context, u Usage) {
	if report, ok := ctx.Value(usageReporterKey{}).(func(Usage)); ok && report != nil {
		report(u)
	}
}
