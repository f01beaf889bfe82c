package wordcount

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/analytics"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/storage"
)

// Job says what to count and how to split the work. Zero fields take the
// defaults below.
type Job struct {
	// Input is a store URL: a local directory or s3://bucket/prefix?...
	// (see storage.Open). Required; DefaultCorpus gives the Go tree.
	Input string `json:"input"`
	// Prefix selects objects inside Input ("" is all).
	Prefix string `json:"prefix,omitempty"`
	// ChunkSize is the largest byte range one chunk covers (default
	// 1 MiB).
	ChunkSize int64 `json:"chunkSize,omitempty"`
	// BatchSize is about how many bytes one activity counts (default
	// 2 MiB): small files are batched together.
	BatchSize int64 `json:"batchSize,omitempty"`
	// Partitions is the number of reducers (default 32).
	Partitions int `json:"partitions,omitempty"`
	// FanIn is how many partial counts one merge combines (default 8).
	FanIn int `json:"fanIn,omitempty"`
	// MaxInFlight bounds concurrent activities (default: no bound).
	MaxInFlight int `json:"maxInFlight,omitempty"`
	// TolerateFailures is how many batches may fail (default 0).
	TolerateFailures int `json:"tolerateFailures,omitempty"`
	// Attempts is the attempts per activity call (default 3).
	Attempts int `json:"attempts,omitempty"`
	// MaxBatchesPerOrchestration splits the map into sub-orchestrations
	// (default 0: no split).
	MaxBatchesPerOrchestration int `json:"maxBatchesPerOrchestration,omitempty"`
	// TopN is how many top words the summary keeps (default 20).
	TopN int `json:"topN,omitempty"`
	// Scratch is a store URL for the intermediate counts (default: a new
	// local temporary directory, removed at the end). Functions that do
	// not share the worker's file system (AWS Lambda) need an S3 URL.
	Scratch string `json:"scratch,omitempty"`
}

func (j Job) withDefaults() Job {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&j.ChunkSize, 1<<20)
	def(&j.BatchSize, 2<<20)
	defInt(&j.Partitions, 32)
	defInt(&j.FanIn, 8)
	defInt(&j.Attempts, 3)
	defInt(&j.TopN, 20)
	return j
}

// Batch is the input of one CountWords call.
type Batch struct {
	Chunks     []analytics.Chunk `json:"chunks"`
	Partitions int               `json:"partitions"`
	// Scratch is the store URL the partial counts are written to.
	Scratch string `json:"scratch"`
}

// Result is the orchestrated count.
type Result struct {
	Summary
	// Chunks and Batches say how the input was split.
	Chunks  int `json:"chunks"`
	Batches int `json:"batches"`
	// Failed lists batches that failed, within the tolerance; their words
	// are not counted.
	Failed []analytics.ItemFailure `json:"failed,omitempty"`
}

// Status is the orchestration's custom status while it runs.
type Status struct {
	Done   int `json:"done"`
	Failed int `json:"failed"`
	Total  int `json:"total"`
}

// CountWords counts the words of the lines of a batch of chunks, splits
// the counts into b.Partitions parts by analytics.KeyPartition, writes
// each part to the scratch store and returns references to them. A
// missing object or bucket fails the call as non-retryable bad input.
var CountWords = activity.New("wordcount.count", func(ctx context.Context, b Batch) ([]Part, error) {
	if b.Partitions < 1 {
		return nil, activity.NewNonRetryableError(analytics.ErrorTypeBadInput, fmt.Sprintf("batch with %d partitions", b.Partitions))
	}
	stores := map[string]storage.Store{}
	scratch, err := openCached(ctx, stores, b.Scratch)
	if err != nil {
		return nil, fmt.Errorf("scratch store: %w", err)
	}
	c := Counts{}
	for _, ch := range b.Chunks {
		st, err := openCached(ctx, stores, ch.Store)
		if err != nil {
			return nil, err
		}
		err = analytics.ReadLines(ctx, st, ch, func(line []byte) error {
			Count(c, line)
			return nil
		})
		if err != nil {
			return nil, badInput(fmt.Errorf("chunk %s: %w", ch, err))
		}
		activity.Heartbeat(ctx, ch.Key)
	}
	parts := make([]Counts, b.Partitions)
	for i := range parts {
		parts[i] = make(Counts, len(c)/b.Partitions+1)
	}
	for w, n := range c {
		parts[analytics.KeyPartition(w, b.Partitions)][w] = n
	}
	refs := make([]Part, b.Partitions)
	for i, p := range parts {
		if refs[i], err = writePart(ctx, scratch, partKey(ctx, "map", i), p); err != nil {
			return nil, err
		}
	}
	return refs, nil
})

// MergeCounts adds partial counts together into a new part.
var MergeCounts = activity.New("wordcount.merge", func(ctx context.Context, ps []Part) (Part, error) {
	if len(ps) == 0 {
		return Part{}, nil
	}
	size := 0
	for _, p := range ps {
		size = max(size, p.Words)
	}
	stores := map[string]storage.Store{}
	out := make(Counts, size)
	if err := readParts(ctx, stores, out, ps...); err != nil {
		return Part{}, err
	}
	st, err := openCached(ctx, stores, ps[0].Store)
	if err != nil {
		return Part{}, err
	}
	return writePart(ctx, st, partKey(ctx, "merge", 0), out)
})

func badInput(err error) error {
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrBucketNotFound) ||
		errors.Is(err, storage.ErrInvalidURL) || errors.Is(err, storage.ErrInvalidKey) {
		return &activity.Error{Type: analytics.ErrorTypeBadInput, Message: err.Error(), NonRetryable: true, Cause: err}
	}
	return err
}

// WordCount partitions the input, counts each batch of chunks in its own
// activity, reduces the counts by key and returns their Summary. Partial
// counts live in a scratch store (Job.Scratch); only references to them
// pass through the history. Its custom status is a Status, updated as
// batches finish.
var WordCount = orchestration.New("wordcount", func(ctx orchestration.Context, job Job) (res Result, err error) {
	if job.Input == "" {
		return Result{}, errors.New("wordcount: job without an input")
	}
	job = job.withDefaults()
	retry := orchestration.RetryPolicy{MaxAttempts: job.Attempts, NonRetryableErrorTypes: []string{analytics.ErrorTypeBadInput}}
	chunks, err := orchestration.Call(ctx, analytics.PartitionActivity,
		analytics.PartitionRequest{Store: job.Input, Prefix: job.Prefix, ChunkSize: job.ChunkSize},
		orchestration.WithRetry(retry)).Await(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("wordcount: partition %q: %w", job.Input, err)
	}
	scratch, err := orchestration.Call(ctx, PrepareScratch, job.Scratch, orchestration.WithRetry(retry)).Await(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("wordcount: %w", err)
	}
	defer func() {
		// Clean up on success, failure and termination alike.
		_, rerr := orchestration.Call(orchestration.WithoutCancel(ctx), RemoveScratch, scratch,
			orchestration.WithRetry(retry)).Await(orchestration.WithoutCancel(ctx))
		if err == nil && rerr != nil {
			err = fmt.Errorf("wordcount: removing the scratch directory: %w", rerr)
		}
	}()
	packed := analytics.Pack(chunks, job.BatchSize)
	batches := make([]Batch, len(packed))
	for i, p := range packed {
		batches[i] = Batch{Chunks: p, Partitions: job.Partitions, Scratch: scratch.URL}
	}
	_ = orchestration.SetCustomStatus(ctx, Status{Total: len(batches)})
	opts := []analytics.Option{
		analytics.WithFanIn(job.FanIn),
		analytics.WithMaxInFlight(job.MaxInFlight),
		analytics.TolerateFailures(job.TolerateFailures),
		analytics.WithRetry(retry),
		analytics.MaxItemsPerOrchestration(job.MaxBatchesPerOrchestration),
		analytics.WithProgress(func(ctx orchestration.Context, p analytics.Progress) {
			_ = orchestration.SetCustomStatus(ctx, Status(p))
		}),
	}
	keyed, err := analytics.MapReduceByKey(ctx, CountWords, MergeCounts, batches, job.Partitions, opts...)
	if err != nil {
		return Result{}, fmt.Errorf("wordcount: %w", err)
	}
	sum, err := orchestration.Call(ctx, SummarizeParts, SummarizeRequest{Parts: keyed.Values, TopN: job.TopN},
		orchestration.WithRetry(retry)).Await(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("wordcount: summarize: %w", err)
	}
	return Result{Summary: sum, Chunks: len(chunks), Batches: len(batches), Failed: keyed.Failed}, nil
})

// Activities returns the activities WordCount calls, for worker
// registration.
func Activities() []activity.Definition {
	return []activity.Definition{analytics.PartitionActivity, PrepareScratch, CountWords, MergeCounts, SummarizeParts, RemoveScratch}
}

// Orchestrators returns WordCount and the sub-orchestrator it uses when
// MaxBatchesPerOrchestration is set, for worker registration.
func Orchestrators() []orchestration.Definition {
	return []orchestration.Definition{WordCount, analytics.MapReduceByKeyOrchestrator(CountWords, MergeCounts)}
}

// Verify compares an orchestrated result with a plain count's summary and
// returns an error describing the first difference.
func Verify(got Result, plain Summary) error {
	switch {
	case len(got.Failed) > 0:
		return fmt.Errorf("wordcount: %d batches failed; first: %s", len(got.Failed), got.Failed[0])
	case got.Total != plain.Total:
		return fmt.Errorf("wordcount: %d words counted, the plain count has %d", got.Total, plain.Total)
	case got.Distinct != plain.Distinct:
		return fmt.Errorf("wordcount: %d distinct words, the plain count has %d", got.Distinct, plain.Distinct)
	case got.Digest != plain.Digest:
		return fmt.Errorf("wordcount: count digest %s differs from the plain count's %s", got.Digest, plain.Digest)
	}
	for i := range min(len(got.Top), len(plain.Top)) {
		if got.Top[i] != plain.Top[i] {
			return fmt.Errorf("wordcount: top word %d is %v, the plain count has %v", i+1, got.Top[i], plain.Top[i])
		}
	}
	return nil
}
