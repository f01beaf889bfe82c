package main

import (
	"slices"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/internal/bench"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/samples/wordcount/wordcount"
)

// builtinOrchestrators are the orchestrators this binary's worker runs and
// replay checks: the benchmark workloads (bench.fanout, bench.sequence)
// and the word count of the README's main job. Applications embed their
// own worker (package worker) for their own orchestrators.
func builtinOrchestrators() []orchestration.Definition {
	return slices.Concat(bench.Orchestrators(), wordcount.Orchestrators())
}

// builtinActivities are the activities this binary's worker runs.
func builtinActivities() []activity.Definition {
	return slices.Concat(bench.Activities(), wordcount.Activities())
}
