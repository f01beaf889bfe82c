// Package conformance is the behavioural test suite every engine must
// pass: written once against an engine-neutral harness and run on the
// embedded engine and on Temporal, so both agree. An engine that cannot
// support a behaviour says so, and the case is skipped with the reason.
package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Feature names a behaviour an engine may not support.
type Feature string

// Features the suite checks.
const (
	FeatureSuspend Feature = "suspend-resume"
	FeaturePurge   Feature = "purge"
	// FeatureBlockedStatus: Status.Blocked says why a live instance makes
	// no progress (no worker hosts its orchestrator).
	FeatureBlockedStatus Feature = "blocked-status"
	// FeatureWallClock: the engine's time is the wall clock, so activities
	// can measure back-offs with time.Now (the harness's is virtual).
	FeatureWallClock Feature = "wall-clock"
)

// Engine is the factory the suite runs on.
type Engine interface {
	// Start returns a client and a started worker that hosts what
	// register registers, isolated from every other Start (its own store
	// or task queue). Everything is stopped in t.Cleanup.
	Start(t *testing.T, register func(w *worker.Worker)) client.Client
	// Unsupported returns why the engine cannot run f, or "".
	Unsupported(f Feature) string
}

// Timeout bounds each case's waits.
const Timeout = 90 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond every 20ms until it holds, failing t after
// Timeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("conformance: %s did not happen within %s", what, Timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Run runs every case on e, one subtest each.
func Run(t *testing.T, e Engine) {
	cases := []struct {
		name string
		fn   func(*testing.T, Engine)
	}{
		{"FanOutFanIn", testFanOutFanIn},
		{"Chain", testChain},
		{"Retries", testRetries},
		{"NonRetryableErrors", testNonRetryable},
		{"Timers", testTimers},
		{"EventsWithTimeout", testEventsWithTimeout},
		{"BufferedEvents", testBufferedEvents},
		{"SubOrchestrations", testSubOrchestrations},
		{"ContinueAsNew", testContinueAsNew},
		{"TerminateWithCompensation", testTerminate},
		{"TerminateReachesChildren", testTerminateReachesChildren},
		{"Versioning", testVersioning},
		{"QueryReadsState", testQueryReadsState},
		{"UpdateIsRecorded", testUpdateIsRecorded},
		{"UpdateRejected", testUpdateRejected},
		{"ValidatorPanics", testValidatorPanics},
		{"UpdateBadTargets", testUpdateBadTargets},
		{"UpdateAwaitsActivity", testUpdateAwaitsActivity},
		{"UpdatesReplay", testUpdatesReplay},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"UpdateOutlivedByItsInstance", testUpdateOutlivedByItsInstance},
		{"Panics", testPanics},
		{"PayloadErrors", testPayloadErrors},
		{"UnknownActivity", testUnknownActivity},
		{"UnknownOrchestrator", testUnknownOrchestrator},
		{"Deterministic", testDeterministic},
		{"ClientOperations", testClientOperations},
		{"SuspendResume", testSuspendResume},
		{"SuspendHoldsSteps", testSuspendHoldsSteps},
		{"UnknownNameRollingDeploy", testUnknownNameRollingDeploy},
		{"NondeterminismDetail", testNondeterminismDetail},
		{"ChildIDsFollowTheRules", testChildIDsFollowTheRules},
		{"TerminateStopsWork", testTerminateStopsWork},
		{"ContinueAsNewKeepsEvents", testContinueAsNewKeepsEvents},
		{"NotHostedLeftUntouched", testNotHostedLeftUntouched},
		{"DurableRetries", testDurableRetries},
		{"GetVersionRule", testGetVersionRule},
		{"ErrorModel", testErrorModel},
		{"TerminateReachesNewChildren", testTerminateReachesNewChildren},
		{"TimersAtTheEdges", testTimersAtTheEdges},
		{"IdempotencyKeysPerRun", testIdempotencyKeysPerRun},
		{"CallDefaults", testCallDefaults},
		{"Usage", testUsage},
		{"NoUsage", testNoUsage},
		{"ScheduleFiresN", testScheduleFiresN},
		{"ScheduleOverlap", testScheduleOverlap},
		{"ScheduleOverlapBufferAndCancel", testScheduleOverlapBufferAndCancel},
		{"ScheduleCancelsSuspended", testScheduleCancelsSuspended},
		{"SchedulePause", testSchedulePause},
		{"ScheduleTrigger", testScheduleTrigger},
		{"ScheduleBackfill", testScheduleBackfill},
		{"ScheduleDelete", testScheduleDelete},
		{"ScheduleBadInput", testScheduleBadInput},
		{"ListPaging", testListPaging},
		{"RewindChain", testRewindChain},
		{"RewindFanOut", testRewindFanOut},
		{"RewindCodeFailure", testRewindCodeFailure},
		{"RewindSubOrchestration", testRewindSubOrchestration},
		{"RewindTerminated", testRewindTerminated},
		{"RewindRefused", testRewindRefused},
	}
	cases = append(cases, attemptCases...)
	cases = append(cases, limitCases...)
	cases = append(cases, startKeyCases...)
	cases = append(cases, explainCases...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, e) })
	}
}
