package lambdawire

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/faas"
)

// reportPrefix starts the line Lambda writes at the end of every
// invocation's log.
const reportPrefix = "REPORT RequestId: "

// maxReportMs bounds a duration in a REPORT line (a day; Lambda's limit
// is 15 minutes), so that any accepted value fits a time.Duration.
const maxReportMs = 24 * 60 * 60 * 1000

// ParseReport reads the usage in the last REPORT line of an invocation's
// log (the decoded X-Amz-Log-Result of LogType Tail):
//
//	REPORT RequestId: <id>	Duration: 102.25 ms	Billed Duration: 103 ms	Memory Size: 128 MB	Max Memory Used: 18 MB	Init Duration: 45.12 ms
//
// Fields are tab-separated, in any order (AWS's Runtime Interface
// Emulator puts Init Duration first); unknown ones (Status, Restore
// Duration...) are ignored, and missing or unreadable ones stay zero. The
// last REPORT line is the platform's: it follows whatever the function
// printed. ok is false without a REPORT line that has both Billed
// Duration and Memory Size.
func ParseReport(log string) (u faas.Usage, ok bool) {
	i := strings.LastIndex(log, reportPrefix)
	for i > 0 && log[i-1] != '\n' { // a REPORT line, not the words inside one
		i = strings.LastIndex(log[:i], reportPrefix)
	}
	if i < 0 {
		return faas.Usage{}, false
	}
	line := log[i+len(reportPrefix):]
	if nl := strings.IndexAny(line, "\r\n"); nl >= 0 {
		line = line[:nl]
	}
	fields := strings.Split(line, "\t")
	u.RequestID = strings.TrimSpace(fields[0])
	var billed, memory bool
	for _, f := range fields[1:] {
		key, value, found := strings.Cut(f, ":")
		if !found {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.TrimSpace(key) {
		case "Duration":
			u.Duration, _ = millis(value)
		case "Billed Duration":
			u.BilledDuration, billed = millis(value)
		case "Init Duration":
			u.InitDuration, _ = millis(value)
		case "Memory Size":
			u.MemoryMB, memory = megabytes(value)
		case "Max Memory Used":
			u.MaxMemoryUsedMB, _ = megabytes(value)
		}
	}
	if !billed || !memory {
		return faas.Usage{}, false
	}
	return u, true
}

// millis reads "102.25 ms".
func millis(s string) (time.Duration, bool) {
	num, ok := strings.CutSuffix(s, " ms")
	if !ok {
		return 0, false
	}
	ms, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(ms) || ms < 0 || ms > maxReportMs {
		return 0, false
	}
	return time.Duration(math.Round(ms * float64(time.Millisecond))), true
}

// megabytes reads "128 MB".
func megabytes(s string) (int, bool) {
	num, ok := strings.CutSuffix(s, " MB")
	if !ok {
		return 0, false
	}
	mb, err := strconv.Atoi(num)
	if err != nil || mb < 0 || mb > 1<<30 {
		return 0, false
	}
	return mb, true
}
