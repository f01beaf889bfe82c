package temporal

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	historypb "go.temporal.io/api/history/v1"
	tclient "go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	tworker "go.temporal.io/sdk/worker"

	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// ReplayOptions configures the replay of Temporal histories.
type ReplayOptions struct {
	// Options supplies the codec and limits (the rest is ignored).
	Options Options
	// Logger receives the replayer's logs (default: discarded).
	Logger *slog.Logger
}

// ReplayError reports orchestrator code that diverged from a recorded
// Temporal history.
type ReplayError struct {
	// Source names the history (a file path or "history").
	Source string
	// Err is Temporal's replay error; for a divergence its message holds
	// the [TMPRL1100] nondeterminism code and the step.
	Err error
}

// Error describes the divergence.
func (e *ReplayError) Error() string {
	return fmt.Sprintf("temporal: replay of %s diverged from the current orchestrator code: %v", e.Source, e.Err)
}

// Unwrap returns Temporal's error.
func (e *ReplayError) Unwrap() error { return e.Err }

// ReplayHistory replays a Temporal history against the current code of
// defs (the orchestrator the history ran, and any it calls) and returns a
// *ReplayError if the code no longer produces the recorded steps.
func ReplayHistory(h *historypb.History, opts ReplayOptions, defs ...orchestration.Definition) error {
	return replay("history", h, opts, defs)
}

// ReplayHistoryJSON is ReplayHistory for a history in Temporal's JSON
// format, as written by Engine.ExportHistory or `temporal workflow show
// --output json`.
func ReplayHistoryJSON(r io.Reader, opts ReplayOptions, defs ...orchestration.Definition) error {
	h, err := tclient.HistoryFromJSON(r, tclient.HistoryJSONOptions{})
	if err != nil {
		return fmt.Errorf("temporal: read JSON history: %w", err)
	}
	return replay("history", h, opts, defs)
}

// ReplayHistoryFile is ReplayHistoryJSON for a file.
func ReplayHistoryFile(path string, opts ReplayOptions, defs ...orchestration.Definition) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("temporal: replay: %w", err)
	}
	defer f.Close()
	h, err := tclient.HistoryFromJSON(f, tclient.HistoryJSONOptions{})
	if err != nil {
		return fmt.Errorf("temporal: read JSON history %s: %w", path, err)
	}
	return replay(path, h, opts, defs)
}

func replay(source string, h *historypb.History, opts ReplayOptions, defs []orchestration.Definition) error {
	if len(defs) == 0 {
		return fmt.Errorf("temporal: replay of %s: no orchestrators given", source)
	}
	reg := worker.NewRegistry()
	if err := reg.AddOrchestrators(defs...); err != nil {
		return fmt.Errorf("temporal: replay of %s: %w", source, err)
	}
	eng := &Engine{opts: opts.Options.withDefaults()}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	eng.log = logger
	rt := eng.newRuntime(reg)
	rep, err := tworker.NewWorkflowReplayerWithOptions(tworker.WorkflowReplayerOptions{
		DataConverter: DataConverter(eng.opts.Codec),
	})
	if err != nil {
		return fmt.Errorf("temporal: replay of %s: %w", source, err)
	}
	registerWorkflows(rep, rt, reg)
	if err := rep.ReplayWorkflowHistory(tlog.NewStructuredLogger(logger), h); err != nil {
		return &ReplayError{Source: source, Err: err}
	}
	return nil
}
