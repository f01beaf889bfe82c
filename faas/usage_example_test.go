package faas_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/faas"
)

// metered stands for an invoker that learns what each invocation used
// (faas/awslambda reads it from Lambda's REPORT line).
type metered struct{}

func (metered) Invoke(ctx context.Context, req faas.Request) ([]byte, error) {
	faas.ReportUsage(ctx, faas.Usage{RequestID: "r-1", Duration: 102250 * time.Microsecond,
		BilledDuration: 103 * time.Millisecond, MemoryMB: 128, MaxMemoryUsedMB: 18})
	return []byte(`"done"`), nil
}

// The caller of Invoke (a worker) installs a reporter in the attempt's
// context and finds the attempt's usage there once Invoke returns.
func ExampleWithUsageReporter() {
	var used faas.Usage
	ctx := faas.WithUsageReporter(context.Background(), func(u faas.Usage) { used = u })
	var inv faas.Invoker = metered{}
	out, err := inv.Invoke(ctx, faas.Request{Activity: "resize", Attempt: 1})
	fmt.Println(string(out), err)
	fmt.Printf("%s: billed %v at %d MB = %.6f GB-s\n", used.RequestID, used.BilledDuration, used.MemoryMB, used.GBSeconds())
	// Output:
	// "done" <nil>
	// r-1: billed 103ms at 128 MB = 0.012875 GB-s
}
