package analytics

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/storage"
)

// ErrEmptyInput is matched (errors.Is) by partitioning a prefix that holds
// no data: no objects, or only empty ones.
var ErrEmptyInput = errors.New("analytics: empty input")

// Chunk is a byte range of one object, the unit of work of a data-parallel
// job. Its lines are the lines that start inside [Offset, Offset+Length):
// ReadLines skips a partial first line (unless Offset is 0) and reads past
// the end to finish the last one, so no line is split, lost or read twice.
type Chunk struct {
	// Store is the URL of the store (storage.Store.URL).
	Store string `json:"store"`
	// Key is the object's key in the store.
	Key string `json:"key"`
	// Offset is where the chunk starts in the object.
	Offset int64 `json:"offset"`
	// Length is the chunk's nominal length in bytes.
	Length int64 `json:"length"`
}

// String names the object and the byte range.
func (c Chunk) String() string {
	return fmt.Sprintf("%s/%s[%d:%d]", c.Store, c.Key, c.Offset, c.Offset+c.Length)
}

// PartitionRequest asks for the objects under a prefix of a store to be
// split into chunks. Set exactly one of ChunkSize and Chunks.
type PartitionRequest struct {
	// Store is a store URL, as storage.Open takes it.
	Store string `json:"store"`
	// Prefix selects the objects (a plain key prefix; "" is everything).
	Prefix string `json:"prefix,omitempty"`
	// ChunkSize is the size of each chunk in bytes; each object is split
	// on its own, so its last chunk may be shorter.
	ChunkSize int64 `json:"chunkSize,omitempty"`
	// Chunks asks for about that many chunks over all objects: the chunk
	// size becomes ceil(total bytes / Chunks). Since chunks never span two
	// objects, the result may hold up to Chunks + objects - 1 chunks.
	Chunks int `json:"chunks,omitempty"`
}

func (r PartitionRequest) validate() error {
	switch {
	case r.Store == "":
		return errors.New("analytics: partition request without a store")
	case r.ChunkSize < 0:
		return fmt.Errorf("analytics: partition request: negative ChunkSize %d", r.ChunkSize)
	case r.Chunks < 0:
		return fmt.Errorf("analytics: partition request: negative Chunks %d", r.Chunks)
	case r.ChunkSize == 0 && r.Chunks == 0:
		return errors.New("analytics: partition request: set ChunkSize or Chunks")
	case r.ChunkSize != 0 && r.Chunks != 0:
		return fmt.Errorf("analytics: partition request: set ChunkSize (%d) or Chunks (%d), not both", r.ChunkSize, r.Chunks)
	}
	return nil
}

// Partition lists the objects under req.Prefix in st and splits them into
// chunks, in key order and then offset order. Empty objects give no chunk.
// A prefix with no data is an error matching ErrEmptyInput that names the
// store and prefix.
func Partition(ctx context.Context, st storage.Store, req PartitionRequest) ([]Chunk, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	objs, err := st.List(ctx, req.Prefix)
	if err != nil {
		return nil, err
	}
	var total int64
	for _, o := range objs {
		total += o.Size
	}
	if total == 0 {
		return nil, fmt.Errorf("%w: no data under prefix %q in %s (%d objects)", ErrEmptyInput, req.Prefix, st.URL(), len(objs))
	}
	size := req.ChunkSize
	if req.Chunks > 0 {
		size = (total + int64(req.Chunks) - 1) / int64(req.Chunks)
	}
	var out []Chunk
	for _, o := range objs {
		for off := int64(0); off < o.Size; off += size {
			out = append(out, Chunk{Store: req.Store, Key: o.Key, Offset: off, Length: min(size, o.Size-off)})
		}
	}
	return out, nil
}

// Pack groups consecutive chunks into batches of about target bytes each
// (a batch holds at least one chunk), so that many small objects make a
// few work items instead of one each.
func Pack(chunks []Chunk, target int64) [][]Chunk {
	var out [][]Chunk
	var cur []Chunk
	var size int64
	for _, c := range chunks {
		if len(cur) > 0 && size+c.Length > target {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, c)
		size += c.Length
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// Opener opens a store by URL; storage.Open is the default. Tests and
// programs that need explicit credentials pass their own.
type Opener func(ctx context.Context, url string) (storage.Store, error)

// NewPartitionActivity returns an activity named name that runs Partition
// on the store open returns for the request's Store URL (storage.Open if
// open is nil). Bad input (a malformed URL, a missing bucket or directory,
// no data under the prefix, an invalid request) fails with a non-retryable
// *activity.Error of type "BadInput" whose message says what was wrong.
func NewPartitionActivity(name string, open Opener) *activity.Activity[PartitionRequest, []Chunk] {
	if open == nil {
		open = storage.Open
	}
	return activity.New(name, func(ctx context.Context, req PartitionRequest) ([]Chunk, error) {
		if err := req.validate(); err != nil {
			return nil, badInput(err)
		}
		st, err := open(ctx, req.Store)
		if err != nil {
			return nil, classify(err)
		}
		chunks, err := Partition(ctx, st, req)
		if err != nil {
			return nil, classify(err)
		}
		return chunks, nil
	})
}

// PartitionActivity is NewPartitionActivity("analytics.partition", nil).
// Register it on workers that run orchestrators calling it.
var PartitionActivity = NewPartitionActivity("analytics.partition", nil)

// ErrorTypeBadInput is the activity.Error type of input that no retry can
// fix: a missing bucket, directory or object, an invalid URL or request,
// an empty corpus.
const ErrorTypeBadInput = "BadInput"

func badInput(err error) error {
	return &activity.Error{Type: ErrorTypeBadInput, Message: err.Error(), NonRetryable: true, Cause: err}
}

// classify marks errors that retries cannot fix as non-retryable BadInput.
func classify(err error) error {
	switch {
	case errors.Is(err, storage.ErrBucketNotFound), errors.Is(err, storage.ErrNotFound),
		errors.Is(err, storage.ErrInvalidURL), errors.Is(err, storage.ErrInvalidKey),
		errors.Is(err, ErrEmptyInput):
		return badInput(err)
	}
	return err
}
