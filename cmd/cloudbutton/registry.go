package main

import (
	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/internal/bench"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// builtinOrchestrators are the orchestrators this binary's worker runs and
// replay checks: the benchmark workloads (bench.fanout, bench.sequence).
func builtinOrchestrators() []orchestration.Definition {
	return bench.Orchestrators()
}

// builtinActivities are the activities this binary's worker runs.
func builtinActivities() []activity.Definition {
	return bench.Activities()
}
