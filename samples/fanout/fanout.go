package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/analytics"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// FileSum is the checksum of one file.
type FileSum struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Checksum reads a file and returns its size and SHA-256. A missing file,
// or a directory, is bad input: not retried.
var Checksum = activity.New("fanout.checksum", func(ctx context.Context, path string) (FileSum, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return FileSum{}, activity.NewNonRetryableError("NotFound", fmt.Sprintf("no file %s", path))
	}
	if err != nil {
		return FileSum{}, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return FileSum{}, activity.NewNonRetryableError("IsDirectory", fmt.Sprintf("%s is a directory", path))
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileSum{}, err
	}
	return FileSum{Path: path, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
})

// Failure is an item that failed, and why.
type Failure struct {
	Index int    `json:"index"`
	Item  string `json:"item"`
	Error string `json:"error"`
}

// Report is the outcome of a fan-out: the results of the items that
// succeeded, in input order, and the items that failed.
type Report struct {
	Sums   []FileSum `json:"sums"`
	Failed []Failure `json:"failed,omitempty"`
}

// retry is the policy of every checksum call: transient errors are retried,
// bad input (NotFound, IsDirectory) is not.
var retry = orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 3})

// FanOut starts one checksum per file at once (fan-out), waits for every
// one of them with All (fan-in), and reports partial failure: the files
// that failed are listed, the others' results are kept.
var FanOut = orchestration.New("fanout.all", func(ctx orchestration.Context, paths []string) (Report, error) {
	fs := make([]orchestration.Future[FileSum], len(paths))
	for i, p := range paths {
		fs[i] = orchestration.Call(ctx, Checksum, p, retry)
	}
	// All waits for every future; its error is only the first failure.
	sums, err := orchestration.All(ctx, fs...).Await(ctx)
	if err == nil {
		return Report{Sums: sums}, nil
	}
	if errors.Is(err, orchestration.ErrCanceled) {
		return Report{}, err
	}
	// Some failed: every future is ready now, so collect them one by one.
	var r Report
	for i, f := range fs {
		s, err := f.Await(ctx)
		if err != nil {
			r.Failed = append(r.Failed, Failure{Index: i, Item: paths[i], Error: err.Error()})
			continue
		}
		r.Sums = append(r.Sums, s)
	}
	return r, nil
})

// BoundedJob is the input of FanOutBounded.
type BoundedJob struct {
	Paths []string `json:"paths"`
	// MaxInFlight bounds the checksums running at a time (0: no bound).
	MaxInFlight int `json:"maxInFlight"`
	// TolerateRate is the fraction of items allowed to fail (0 to 1);
	// more failures fail the orchestration.
	TolerateRate float64 `json:"tolerateRate"`
}

// FanOutBounded checksums the files with at most MaxInFlight calls at a
// time, tolerating up to a fraction of failures, with analytics.Map.
var FanOutBounded = orchestration.New("fanout.bounded", func(ctx orchestration.Context, job BoundedJob) (Report, error) {
	res, err := analytics.Map(ctx, Checksum, job.Paths,
		analytics.WithMaxInFlight(job.MaxInFlight),
		analytics.TolerateFailureRate(job.TolerateRate),
		analytics.WithRetry(orchestration.RetryPolicy{MaxAttempts: 3}))
	if err != nil {
		return Report{}, err
	}
	var r Report
	for i, s := range res.Outputs {
		if res.OK(i) {
			r.Sums = append(r.Sums, s)
		}
	}
	for _, f := range res.Failed {
		r.Failed = append(r.Failed, Failure{Index: f.Index, Item: job.Paths[f.Index], Error: f.Type + ": " + f.Message})
	}
	return r, nil
})

func orchestrators() []orchestration.Definition {
	return []orchestration.Definition{FanOut, FanOutBounded}
}
