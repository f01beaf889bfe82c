package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newEnv(t *testing.T) *orchestrationtest.Env {
	env := orchestrationtest.New(t)
	env.RegisterActivities(activities()...)
	return env
}

func hashChain(s string, n int) string {
	for range n {
		sum := sha256.Sum256([]byte(s))
		s = hex.EncodeToString(sum[:])
	}
	return s
}

func TestPipeline(t *testing.T) {
	tests := []struct {
		name   string
		in     Input
		clean  string
		words  int
		rounds int
	}{
		{"text", Input{Text: "  Hello,   WORLD!\n bye ", Rounds: 3}, "hello world bye", 3, 3},
		{"no rounds: the fingerprint is the text", Input{Text: "a b", Rounds: 0}, "a b", 2, 0},
		{"empty text", Input{Text: "", Rounds: 1}, "", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			out, err := orchestrationtest.Run(env, Pipeline, tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.clean, out.Clean)
			assert.Equal(t, tt.words, out.Stats.Words)
			assert.Equal(t, hashChain(tt.clean, tt.rounds), out.Fingerprint)
			want := []string{Normalize.Name(), StripPunct.Name(), Lower.Name(), Stats.Name()}
			for range tt.rounds {
				want = append(want, Hash.Name())
			}
			assert.Equal(t, want, orchestrationtest.ScheduledActivities(env.History()), "the chain runs in order")
		})
	}
}

// TestPipelinePassesResultsAlong: each step gets the previous step's
// result, whatever it is.
func TestPipelinePassesResultsAlong(t *testing.T) {
	env := newEnv(t)
	orchestrationtest.MockActivity(env, Normalize, func(ctx context.Context, s string) (string, error) {
		return "MOCKED: normalize", nil
	})
	strip := orchestrationtest.MockActivity(env, StripPunct, func(ctx context.Context, s string) (string, error) {
		return s + " +strip", nil
	})
	lower := orchestrationtest.MockActivity(env, Lower, func(ctx context.Context, s string) (string, error) {
		return s + " +lower", nil
	})
	out, err := orchestrationtest.Run(env, Pipeline, Input{Text: "ignored", Rounds: 1})
	require.NoError(t, err)
	assert.Equal(t, []string{"MOCKED: normalize"}, strip.Inputs())
	assert.Equal(t, []string{"MOCKED: normalize +strip"}, lower.Inputs())
	assert.Equal(t, "MOCKED: normalize +strip +lower", out.Clean)
}

// TestPipelineStopsAtFailure: a failed step ends the chain; later steps
// never run, and the error names the step.
func TestPipelineStopsAtFailure(t *testing.T) {
	env := newEnv(t)
	orchestrationtest.MockActivity(env, StripPunct, func(ctx context.Context, s string) (string, error) {
		return "", activity.NewNonRetryableError("Broken", "strip broke")
	})
	lower := orchestrationtest.MockActivity(env, Lower, func(ctx context.Context, s string) (string, error) { return s, nil })
	_, err := orchestrationtest.Run(env, Pipeline, Input{Text: "x", Rounds: 2})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "step 2 of 3 (chaining.strip-punct)")
	assert.Contains(t, err.Error(), "strip broke")
	assert.Zero(t, lower.Count())
	assert.Equal(t, []string{Normalize.Name(), StripPunct.Name()}, orchestrationtest.ScheduledActivities(env.History()))
}

func TestPipelineMissingFile(t *testing.T) {
	env := newEnv(t)
	missing := filepath.Join(t.TempDir(), "nope.txt")
	_, err := orchestrationtest.Run(env, Pipeline, Input{Path: missing})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "NotFound")
	assert.Contains(t, err.Error(), missing)
}

// TestRunEndToEnd runs the sample's main on the embedded engine.
func TestRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "in.txt")
	require.NoError(t, os.WriteFile(file, []byte("One, two;  THREE\nfour"), 0o644))
	db := filepath.Join(dir, "chaining.db")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--db", db, "--file", file, "--rounds", "2"}, &out, io.Discard))
	s := out.String()
	assert.Contains(t, s, `clean text:  "one two three four"`)
	assert.Contains(t, s, "stats:       4 words, 18 runes")
	assert.Contains(t, s, "fingerprint: "+hashChain("one two three four", 2))
	assert.Contains(t, s, "history stored in "+db)

	err := run(context.Background(), []string{"--db", db, "--file", filepath.Join(dir, "missing.txt")}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.txt")
	require.ErrorContains(t, run(context.Background(), []string{"--db", db, "--rounds", "-1"}, io.Discard, io.Discard), "--rounds -1")
}
