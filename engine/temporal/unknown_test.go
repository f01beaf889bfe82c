package temporal

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// TestUnknownNameLoggedOncePerName: the SDK logs every failed attempt of
// an unregistered workflow type; the worker says it once per name (again
// after unknownNameEvery) and demotes the SDK's lines to debug.
func TestUnknownNameLoggedOncePerName(t *testing.T) {
	var buf syncbuf.Buffer
	reg := worker.NewRegistry()
	_ = reg.AddOrchestrators(orchestration.New("here", func(orchestration.Context, int) (int, error) { return 0, nil }))
	u := newUnknownNames(slog.New(slog.NewTextHandler(&buf, nil)), reg)
	now := time.Unix(0, 0)
	u.now = func() time.Time { return now }
	failed := func(name string) []any {
		return []any{"WorkflowType", name, "Attempt", 2, "Error",
			"unable to find workflow type: " + name + ". Supported types: [here, cloudbutton.batch]"}
	}
	for range 3 {
		assert.True(t, u.seen(failed("a")))
	}
	assert.True(t, u.seen(failed("b")))
	assert.False(t, u.seen([]any{"WorkflowType", "here", "Error", "something else"}))
	assert.Equal(t, 1, strings.Count(buf.String(), `orchestrator \"a\" is not registered here`))
	assert.Equal(t, 1, strings.Count(buf.String(), `orchestrator \"b\" is not registered here`))
	assert.Contains(t, buf.String(), "registered=[here]")
	now = now.Add(unknownNameEvery)
	u.seen(failed("a"))
	assert.Equal(t, 2, strings.Count(buf.String(), `orchestrator \"a\" is not registered here`), "again after unknownNameEvery")
}
