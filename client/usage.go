package client

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Usage is the billed compute of activity attempts, as their invokers
// reported it (faas.Usage, from AWS Lambda's or the local function host's
// REPORT line of each invocation). Every billed attempt counts: retries
// and failed attempts included. Attempts whose invoker reports nothing
// (the in-process invoker, AWS's emulator) add nothing.
//
// Billed durations are counted in whole milliseconds, as Lambda bills
// them (a fraction of a millisecond rounds up), and GB-seconds are billed
// seconds times the memory size in GB (MemoryMB/1024), summed per
// attempt; so the sums are exact.
//
// In JSON: {"invocations":3,"billedMs":300,"gbSeconds":0.375}.
type Usage struct {
	// Invocations counts the billed attempts.
	Invocations int64
	// BilledDuration is the sum of their billed durations.
	BilledDuration time.Duration
	// GBSeconds is the sum of their billed GB-seconds.
	GBSeconds float64
}

// IsZero reports whether nothing was billed.
func (u Usage) IsZero() bool { return u == Usage{} }

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{Invocations: u.Invocations + v.Invocations, BilledDuration: u.BilledDuration + v.BilledDuration,
		GBSeconds: u.GBSeconds + v.GBSeconds}
}

// String renders u as "3 invocations, 300ms billed, 0.375 GB-s".
func (u Usage) String() string {
	return fmt.Sprintf("%d invocations, %s billed, %s GB-s", u.Invocations, u.BilledDuration,
		strconv.FormatFloat(u.GBSeconds, 'f', -1, 64))
}

type usageJSON struct {
	Invocations int64   `json:"invocations"`
	BilledMs    int64   `json:"billedMs"`
	GBSeconds   float64 `json:"gbSeconds"`
}

// MarshalJSON writes u with its billed duration in milliseconds.
func (u Usage) MarshalJSON() ([]byte, error) {
	return json.Marshal(usageJSON{Invocations: u.Invocations, BilledMs: u.BilledDuration.Milliseconds(), GBSeconds: u.GBSeconds})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (u *Usage) UnmarshalJSON(b []byte) error {
	var j usageJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*u = Usage{Invocations: j.Invocations, BilledDuration: time.Duration(j.BilledMs) * time.Millisecond, GBSeconds: j.GBSeconds}
	return nil
}

// TotalUsage is the usage of the instance and of its sub-orchestrations
// (Usage plus SubOrchestrationUsage); nil when either is not available.
func (s *Status) TotalUsage() *Usage {
	if s.Usage == nil || s.SubOrchestrationUsage == nil {
		return nil
	}
	t := s.Usage.Add(*s.SubOrchestrationUsage)
	return &t
}
