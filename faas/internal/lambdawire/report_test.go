package lambdawire

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/faas"
)

func TestParseReport(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	tests := []struct {
		name string
		log  string
		want faas.Usage
		ok   bool
	}{
		{"AWS, cold", "START RequestId: r1 Version: $LATEST\nhello\nEND RequestId: r1\n" +
			"REPORT RequestId: r1\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\tInit Duration: 45.12 ms\t\n",
			faas.Usage{RequestID: "r1", Duration: ms(102.25), BilledDuration: ms(103), MemoryMB: 128, MaxMemoryUsedMB: 18, InitDuration: ms(45.12)}, true},
		{"AWS, timeout with a status", "REPORT RequestId: r2\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 256 MB\tMax Memory Used: 40 MB\tStatus: timeout",
			faas.Usage{RequestID: "r2", Duration: ms(3000), BilledDuration: ms(3000), MemoryMB: 256, MaxMemoryUsedMB: 40}, true},
		{"RIE: Init Duration first, a trailing tab", "REPORT RequestId: r3\tInit Duration: 0.23 ms\tDuration: 8.44 ms\tBilled Duration: 9 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t\n",
			faas.Usage{RequestID: "r3", Duration: ms(8.44), BilledDuration: ms(9), MemoryMB: 128, MaxMemoryUsedMB: 128, InitDuration: ms(0.23)}, true},
		{"the local host: no Max Memory Used", "REPORT RequestId: r4\tDuration: 1.50 ms\tBilled Duration: 2 ms\tMemory Size: 512 MB\tInit Duration: 7.00 ms\n",
			faas.Usage{RequestID: "r4", Duration: ms(1.5), BilledDuration: ms(2), MemoryMB: 512, InitDuration: ms(7)}, true},
		{"the last line is the platform's", "REPORT RequestId: fake\tBilled Duration: 1 ms\tMemory Size: 1 MB\nEND RequestId: r5\nREPORT RequestId: r5\tBilled Duration: 5 ms\tMemory Size: 128 MB\n",
			faas.Usage{RequestID: "r5", BilledDuration: ms(5), MemoryMB: 128}, true},
		{"words inside a line are not a line", "REPORT RequestId: r6\tBilled Duration: 6 ms\tMemory Size: 128 MB\nsaid REPORT RequestId: x\tBilled Duration: 1 ms\tMemory Size: 1 MB\n",
			faas.Usage{RequestID: "r6", BilledDuration: ms(6), MemoryMB: 128}, true},
		{"XRAY line after it", "REPORT RequestId: r7\tBilled Duration: 7 ms\tMemory Size: 128 MB\t\nXRAY TraceId: 1-abc\tSegmentId: s\tSampled: true\n",
			faas.Usage{RequestID: "r7", BilledDuration: ms(7), MemoryMB: 128}, true},
		{"no REPORT line", "START RequestId: r\nEND RequestId: r\n", faas.Usage{}, false},
		{"no billed duration", "REPORT RequestId: r\tDuration: 1 ms\tMemory Size: 128 MB", faas.Usage{}, false},
		{"unreadable memory", "REPORT RequestId: r\tBilled Duration: 1 ms\tMemory Size: lots", faas.Usage{}, false},
		{"out of range", "REPORT RequestId: r\tBilled Duration: 1e30 ms\tMemory Size: 128 MB", faas.Usage{}, false},
		{"empty", "", faas.Usage{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseReport(tt.log)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// FuzzParseReport: any log parses without panicking into a usage within
// range, and a REPORT line written from a usage reads back as it.
func FuzzParseReport(f *testing.F) {
	f.Add("REPORT RequestId: r1\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\tInit Duration: 45.12 ms", int64(103), 128, 18, int64(45120))
	f.Add("REPORT RequestId: r3\tInit Duration: 0.23 ms\tDuration: 8.44 ms\tBilled Duration: 9 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t\n", int64(1), 10240, 0, int64(0))
	f.Add("x\nREPORT RequestId: \tBilled Duration: -1 ms\tMemory Size: 0x10 MB", int64(-5), -1, 1<<40, int64(-1))
	f.Add("REPORT RequestId: REPORT RequestId: \t:\t::\tBilled Duration:  ms\tMemory Size: NaN MB", int64(900000), 1, 1, int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, log string, billedMs int64, memory, maxUsed int, initUs int64) {
		if len(log) > maxFuzzInput {
			t.Skip("bounded input")
		}
		if u, ok := ParseReport(log); ok {
			for _, d := range []time.Duration{u.Duration, u.BilledDuration, u.InitDuration} {
				require.True(t, d >= 0 && d <= maxReportMs*time.Millisecond, "%v", d)
			}
			require.True(t, u.MemoryMB >= 0 && u.MaxMemoryUsedMB >= 0)
			g := u.GBSeconds()
			require.False(t, math.IsNaN(g) || math.IsInf(g, 0) || g < 0, "%v", g)
			require.NotContains(t, u.RequestID, "\n")
		}

		if billedMs < 0 || billedMs > maxReportMs || memory < 0 || memory > 1<<30 || maxUsed < 0 || maxUsed > 1<<30 || initUs < 0 || initUs > maxReportMs*1000 {
			return
		}
		want := faas.Usage{RequestID: "8f5c0b6e-req", BilledDuration: time.Duration(billedMs) * time.Millisecond, MemoryMB: memory,
			MaxMemoryUsedMB: maxUsed, InitDuration: time.Duration(initUs) * time.Microsecond, Duration: time.Duration(billedMs) * time.Millisecond}
		line := fmt.Sprintf("START RequestId: x\n%sEND RequestId: x\nREPORT RequestId: %s\tDuration: %d.00 ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\tInit Duration: %.3f ms\t\n",
			strings.ReplaceAll(log, "\n", " ")+"\n", want.RequestID, billedMs, billedMs, memory, maxUsed, float64(initUs)/1000)
		got, ok := ParseReport(line)
		require.True(t, ok, "%q", line)
		require.Equal(t, want, got)
	})
}
