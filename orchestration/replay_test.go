package orchestration_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

var update = flag.Bool("update", false, "rewrite the golden histories in testdata/")

var (
	reserve    = activity.New("reserve", func(ctx context.Context, item string) (string, error) { return "r-" + item, nil })
	charge     = activity.New("charge", func(ctx context.Context, ref string) (string, error) { return "c-" + ref, nil })
	fraudCheck = activity.New("fraud-check", func(ctx context.Context, item string) (bool, error) { return true, nil })
)

// The orchestrator as it was when the golden history was recorded.
var orderV1 = orchestration.New("order", func(ctx orchestration.Context, item string) (string, error) {
	ref, err := orchestration.Call(ctx, reserve, item).Await(ctx)
	if err != nil {
		return "", err
	}
	return orchestration.Call(ctx, charge, ref).Await(ctx)
})

// A change that breaks running instances: the calls are reordered.
var orderReordered = orchestration.New("order", func(ctx orchestration.Context, item string) (string, error) {
	if _, err := orchestration.Call(ctx, charge, "early").Await(ctx); err != nil {
		return "", err
	}
	return orchestration.Call(ctx, reserve, item).Await(ctx)
})

// A change that breaks running instances: the second call is gone.
var orderTruncated = orchestration.New("order", func(ctx orchestration.Context, item string) (string, error) {
	return orchestration.Call(ctx, reserve, item).Await(ctx)
})

// The same change done right: guarded by GetVersion.
var orderVersioned = orchestration.New("order", func(ctx orchestration.Context, item string) (string, error) {
	if orchestration.GetVersion(ctx, "fraud-check", orchestration.DefaultVersion, 1) == 1 {
		if _, err := orchestration.Call(ctx, fraudCheck, item).Await(ctx); err != nil {
			return "", err
		}
	}
	ref, err := orchestration.Call(ctx, reserve, item).Await(ctx)
	if err != nil {
		return "", err
	}
	return orchestration.Call(ctx, charge, ref).Await(ctx)
})

// A later version that dropped support for instances started before the
// change.
var orderV2Only = orchestration.New("order", func(ctx orchestration.Context, item string) (string, error) {
	orchestration.GetVersion(ctx, "fraud-check", 1, 1)
	return "", nil
})

const golden = "testdata/order-v1.json"

func TestGoldenHistories(t *testing.T) {
	if *update {
		env := orchestrationtest.New(t)
		env.RegisterActivities(reserve, charge)
		_, err := orchestrationtest.Run(env, orderV1, "book")
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, env.ExportHistory(&buf))
		require.NoError(t, os.MkdirAll("testdata/bad", 0o755))
		require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
		bad := strings.Replace(buf.String(), `"name": "reserve"`, `"name": "reserve-v0"`, 1)
		require.NoError(t, os.WriteFile("testdata/bad/order-renamed-activity.json", []byte(bad), 0o644))
		require.NoError(t, os.WriteFile("testdata/bad/not-a-history.json", []byte(`{"format":"something-else","events":[]}`), 0o644))
	}
	tests := []struct {
		name    string
		file    string
		code    *orchestration.Orchestrator[string, string]
		wantErr []string
	}{
		{"same code replays", golden, orderV1, nil},
		{"versioned change replays old history", golden, orderVersioned, nil},
		{"reordered calls", golden, orderReordered, []string{"[CB1100]", "at step 1", `history recorded ActivityScheduled "reserve"`, `the code did ActivityScheduled "charge"`}},
		{"removed call", golden, orderTruncated, []string{"[CB1100]", "at step 2", `history recorded ActivityScheduled "charge"`, "the code did nothing", "the code stopped after step 1"}},
		{"dropped version support", golden, orderV2Only, []string{"[CB1100]", `version 0 of change "fraud-check"`, "support versions 1 to 1"}},
		{"bad: history of a renamed activity", "testdata/bad/order-renamed-activity.json", orderV1, []string{"[CB1100]", `history recorded ActivityScheduled "reserve-v0"`, `the code did ActivityScheduled "reserve"`}},
		{"bad: not a history", "testdata/bad/not-a-history.json", orderV1, []string{`history format "something-else" is not "cloudbutton.history/v1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := orchestrationtest.ReplayHistoryFile(filepath.FromSlash(tt.file), tt.code)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.wantErr {
				assert.Contains(t, err.Error(), w)
			}
			if strings.Contains(tt.wantErr[0], "CB1100") {
				var nd *orchestration.NondeterminismError
				require.ErrorAs(t, err, &nd)
			}
		})
	}
}

func TestVersioningNewInstancesTakeTheNewBranch(t *testing.T) {
	env := orchestrationtest.New(t)
	env.RegisterActivities(reserve, charge)
	checks := orchestrationtest.MockActivity(env, fraudCheck, func(ctx context.Context, item string) (bool, error) { return true, nil })
	out, err := orchestrationtest.Run(env, orderVersioned, "book")
	require.NoError(t, err)
	assert.Equal(t, "c-r-book", out)
	assert.Equal(t, 1, checks.Count())
	var marked bool
	for _, e := range env.History() {
		marked = marked || (e.Type == "VersionMarked" && e.Name == "fraud-check")
	}
	assert.True(t, marked, "the version is recorded in history")
}
