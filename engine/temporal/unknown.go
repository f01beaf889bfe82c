package temporal

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	tlog "go.temporal.io/sdk/log"

	"github.com/cloudbutton/cloudbutton/worker"
)

// Unknown names. A worker registers a Temporal workflow for each of its
// orchestrators and no dynamic workflow: the SDK fails the workflow task
// of any other type ("unable to find workflow type"), and Temporal
// retries it, so that a worker that hosts the name (another fleet on the
// task queue, or the next version of a rolling deploy) runs it. The SDK
// logs that failure on every retry; unknownNameLogger turns it into one
// line per name (again at most every unknownNameEvery) that names the
// orchestrator and lists the names registered here.

// unknownNameEvery rate-limits the "not registered here" line per name.
const unknownNameEvery = 5 * time.Minute

// sdkUnknownWorkflow is how the SDK's error for an unregistered workflow
// type starts.
const sdkUnknownWorkflow = "unable to find workflow type: "

// unknownNames is the state the SDK logger wrappers of one worker share.
type unknownNames struct {
	log *slog.Logger
	reg *worker.Registry
	now func() time.Time

	mu     sync.Mutex
	logged map[string]time.Time
}

func newUnknownNames(log *slog.Logger, reg *worker.Registry) *unknownNames {
	return &unknownNames{log: log, reg: reg, now: time.Now, logged: map[string]time.Time{}}
}

// seen reports whether the SDK log entry (msg, keyvals) is a workflow
// task failed for an unregistered type, and logs that once per name.
func (u *unknownNames) seen(keyvals []any) bool {
	var name, errText string
	for i := 0; i+1 < len(keyvals); i += 2 {
		switch keyvals[i] {
		case "WorkflowType":
			name = fmt.Sprint(keyvals[i+1])
		case "Error":
			errText = fmt.Sprint(keyvals[i+1])
		}
	}
	if !strings.Contains(errText, sdkUnknownWorkflow) {
		return false
	}
	if name == "" {
		rest := errText[strings.Index(errText, sdkUnknownWorkflow)+len(sdkUnknownWorkflow):]
		name, _, _ = strings.Cut(rest, ". ")
	}
	u.mu.Lock()
	last, ok := u.logged[name]
	now := u.now()
	if ok && now.Sub(last) < unknownNameEvery {
		u.mu.Unlock()
		return true
	}
	u.logged[name] = now
	u.mu.Unlock()
	u.log.Warn(fmt.Sprintf("orchestrator %q is not registered here; Temporal retries its workflow task until a worker that hosts it runs it", name),
		"orchestrator", name, "registered", u.reg.OrchestratorNames())
	return true
}

// unknownNameLogger is the SDK logger of a worker: it passes everything
// to the engine's SDK logger except the repeated failures of unknown
// workflow types, which it logs once (above) and demotes to debug.
type unknownNameLogger struct {
	tlog.Logger
	u *unknownNames
}

var _ tlog.WithLogger = (*unknownNameLogger)(nil)

func (l *unknownNameLogger) Warn(msg string, keyvals ...any) {
	if l.u.seen(keyvals) {
		l.Logger.Debug(msg, keyvals...)
		return
	}
	l.Logger.Warn(msg, keyvals...)
}

func (l *unknownNameLogger) Error(msg string, keyvals ...any) {
	if l.u.seen(keyvals) {
		l.Logger.Debug(msg, keyvals...)
		return
	}
	l.Logger.Error(msg, keyvals...)
}

func (l *unknownNameLogger) With(keyvals ...any) tlog.Logger {
	return &unknownNameLogger{Logger: tlog.With(l.Logger, keyvals...), u: l.u}
}
