// Package wordcount is the data-analytics sample: it counts words across a
// corpus in object storage (by default the Go installation's source tree,
// $(go env GOROOT)/src) with one activity per batch of chunks, reduces the
// counts by key in a reduce tree, and checks the result against a plain
// single-process count of the same corpus.
//
// A word is a maximal run of Unicode letters, digits and underscores in
// the UTF-8 decoding of the input; bytes that are not valid UTF-8 are
// separators, like spaces and punctuation. The orchestrated and the plain
// count use the same Count function, so they agree exactly.
//
// Register the sample on a worker with Activities and Orchestrators:
//
//	w.RegisterActivities(wordcount.Activities()...)
//	w.RegisterOrchestrators(wordcount.Orchestrators()...)
//
// The counts never pass through a payload or the history (the Go tree has
// over half a million distinct words, about 11 MB as JSON): map and merge
// activities write partial counts to a scratch store (Job.Scratch; by
// default a temporary directory removed at the end) and exchange Part
// references, as PyWren and Lithops keep intermediate data in object
// storage. A last activity reads the final partitions and returns a
// Summary (totals, top words, and a digest of every count) that equals the
// Summary of the plain count when, and only when (up to hash collisions),
// the counts are equal.
//
// The runnable sample is the parent directory: go run ./samples/wordcount.
// samples/wordcount/cloudbutton is the sample's own CLI (package cli),
// whose worker hosts the word count:
//
//	go run ./samples/wordcount/cloudbutton --db wc.db worker
package wordcount
