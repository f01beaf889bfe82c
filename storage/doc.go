// Package storage puts object storage behind a small interface, Store, for
// the data-analytics helpers (package analytics) and for user activities.
//
// Two implementations are provided:
//
//   - Local: a directory on the local file system (the default). Keys are
//     slash-separated paths relative to the root; only regular files are
//     objects (symbolic links, devices and directories are skipped).
//   - S3: a bucket (and optional key prefix) of Amazon S3 or of any
//     S3-compatible server, through github.com/aws/aws-sdk-go-v2/service/s3,
//     with endpoint override, path-style addressing, region and credentials
//     from the default chain or given explicitly.
//
// Open builds either from a URL-ish string, so that a store can be named in
// an activity's input and reopened wherever the activity runs:
//
//	st, err := storage.Open(ctx, "/data/corpus")
//	st, err := storage.Open(ctx, "s3://bucket/corpus?endpoint=http://127.0.0.1:9000&region=us-east-1")
//
// Store.URL returns the canonical form of that string (never with
// credentials in it).
//
// # Listing order
//
// List returns objects sorted by key (byte-wise), on every implementation,
// so that partitioning a prefix is deterministic.
//
// # Errors
//
// A missing object matches ErrNotFound; a missing bucket (or a missing root
// directory) is a *BucketNotFoundError that names it and matches
// ErrBucketNotFound; an invalid key matches ErrInvalidKey. All are matched
// with errors.Is / errors.As.
//
// # Concurrency
//
// Stores are safe for concurrent use.
//
// # Testing
//
// The same conformance suite runs against Local and against S3 talking HTTP
// to a gofakes3 server on 127.0.0.1.
package storage
