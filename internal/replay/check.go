package replay

import (
	"errors"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// ErrNoDefinition is wrapped by CheckHistory's error when none of the
// definitions given is the history's orchestrator.
var ErrNoDefinition = errors.New("not among the definitions given")

// CheckHistory replays h against the current code of the orchestrator of
// defs that h names, and reports whether the code reproduces it: nil, or
// the replay's error (a *orchestration.NondeterminismError naming the
// step, what history recorded and what the code did, when they diverge).
// The harness's ReplayHistory and the CLI's replay command share it.
func CheckHistory(h History, defs ...orchestration.Definition) error {
	for _, d := range defs {
		if d.Name() == h.Name {
			x := New(core.DefinitionOf(d), Options{DeadlockTimeout: 5 * time.Second})
			defer x.Close()
			return x.Replay(h.Events)
		}
	}
	return fmt.Errorf("history is of orchestrator %q, which is %w", h.Name, ErrNoDefinition)
}
