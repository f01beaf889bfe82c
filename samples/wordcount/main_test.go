package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/samples/wordcount/wordcount"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// smallCorpus is the Go tree's strings package: small, real source.
func smallCorpus(t *testing.T) string {
	dir := filepath.Join(wordcount.DefaultCorpus(context.Background()), "strings")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no Go source tree: %v", err)
	}
	return dir
}

// TestRunEndToEnd runs the sample's main path on the embedded engine:
// in-process, and through a local Lambda-compatible host over HTTP.
func TestRunEndToEnd(t *testing.T) {
	corpus := smallCorpus(t)
	tests := []struct {
		name string
		args []string
	}{
		{"in-process", nil},
		{"local function host", []string{"--local-host"}},
		{"given scratch store", []string{"--scratch", "SCRATCH"}},
		{"small chunks, progress", []string{"--chunk-size", "4096", "--batch-size", "16384", "--partitions", "3", "--fan-in", "2", "--progress"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "wc.db")
			t.Setenv("TMPDIR", t.TempDir())
			var out bytes.Buffer
			args := append([]string{"--input", corpus, "--db", db, "--progress=false", "--top", "5"}, tt.args...)
			for i, a := range args {
				if a == "SCRATCH" {
					args[i] = t.TempDir()
				}
			}
			require.NoError(t, run(context.Background(), args, &out, io.Discard), out.String())
			s := out.String()
			assert.Contains(t, s, "verified: ")
			assert.Contains(t, s, "equal to the plain count")
			assert.Contains(t, s, "ratio orchestrated/plain: ")
			assert.Contains(t, s, "top 5 words:")
			assert.Contains(t, s, "history stored in "+db)
			assert.Contains(t, s, "go run ./cmd/cloudbutton --db "+db+" history wordcount-")
			left, err := os.ReadDir(os.Getenv("TMPDIR"))
			require.NoError(t, err)
			assert.Empty(t, left, "the scratch directory is removed")
		})
	}
}

func TestRunBadInput(t *testing.T) {
	empty := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(empty, "zero.txt"), nil, 0o644))
	missing := filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"missing directory", []string{"--input", missing}, missing},
		{"empty corpus", []string{"--input", empty}, "empty corpus (1 objects, 0 bytes)"},
		{"empty prefix", []string{"--input", smallCorpus(t), "--prefix", "zzz"}, "--prefix zzz: empty corpus"},
		{"bad scheme", []string{"--input", "gs://bucket/x"}, "unsupported scheme"},
		{"bad chunk size", []string{"--chunk-size", "0"}, "--chunk-size 0"},
		{"bad fan-in", []string{"--fan-in", "1"}, "--fan-in 1"},
		{"stray argument", []string{"extra"}, "unexpected arguments"},
		{"both invokers", []string{"--local-host", "--lambda-endpoint", "http://127.0.0.1:1"}, "exclude each other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "wc.db")
			err := run(context.Background(), append([]string{"--db", db}, tt.args...), io.Discard, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}
