package wordcount_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
	"github.com/cloudbutton/cloudbutton/samples/wordcount/wordcount"
	"github.com/cloudbutton/cloudbutton/storage"
)

// benchCorpus is the Go tree's net package by default; set
// WORDCOUNT_CORPUS (for example to $(go env GOROOT)/src) for another.
func benchCorpus(b *testing.B) string {
	if dir := os.Getenv("WORDCOUNT_CORPUS"); dir != "" {
		return dir
	}
	dir := filepath.Join(wordcount.DefaultCorpus(context.Background()), "net")
	if _, err := os.Stat(dir); err != nil {
		b.Skipf("no Go source tree: %v", err)
	}
	return dir
}

// BenchmarkPlainCount is the single-process reference count.
func BenchmarkPlainCount(b *testing.B) {
	dir := benchCorpus(b)
	ctx := context.Background()
	st, err := storage.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := wordcount.CountPlain(ctx, st, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOrchestratedCountHarness runs WordCount on the in-memory test
// harness (activities run one at a time, no replay check): the cost of
// chunking, encoding and reducing, without parallelism or durability.
func BenchmarkOrchestratedCountHarness(b *testing.B) {
	dir := benchCorpus(b)
	for b.Loop() {
		env := orchestrationtest.New(b, orchestrationtest.WithoutReplayCheck())
		env.RegisterActivities(wordcount.Activities()...)
		env.RegisterOrchestrators(wordcount.Orchestrators()...)
		if _, err := orchestrationtest.Run(env, wordcount.WordCount, wordcount.Job{Input: dir}); err != nil {
			b.Fatal(err)
		}
	}
}
