package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

var (
	// ErrNotFound is matched (errors.Is) by reads of an object that does
	// not exist.
	ErrNotFound = errors.New("storage: object not found")
	// ErrBucketNotFound is matched by every *BucketNotFoundError.
	ErrBucketNotFound = errors.New("storage: bucket not found")
	// ErrInvalidKey is matched by operations on a key (or prefix) that the
	// store cannot address, such as "../x" or "/abs".
	ErrInvalidKey = errors.New("storage: invalid key")
	// ErrInvalidURL is matched by Open errors for a URL it cannot parse.
	ErrInvalidURL = errors.New("storage: invalid store URL")
)

// BucketNotFoundError reports a bucket, or the root directory of a Local
// store, that does not exist. It matches ErrBucketNotFound.
type BucketNotFoundError struct {
	// Bucket is the bucket name, or the root directory of a Local store.
	Bucket string
	// Err is the underlying error, if any.
	Err error
}

// Error names the missing bucket or directory.
func (e *BucketNotFoundError) Error() string {
	msg := fmt.Sprintf("storage: bucket %q does not exist", e.Bucket)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is matches ErrBucketNotFound.
func (e *BucketNotFoundError) Is(target error) bool { return target == ErrBucketNotFound }

// Unwrap returns the underlying error.
func (e *BucketNotFoundError) Unwrap() error { return e.Err }

// ObjectInfo describes one object of a listing.
type ObjectInfo struct {
	// Key is the object's key, relative to the store's root.
	Key string `json:"key"`
	// Size is the object's size in bytes.
	Size int64 `json:"size"`
}

// Store is object storage: a flat namespace of keys (slash-separated by
// convention) holding immutable byte strings. Implementations are safe for
// concurrent use.
type Store interface {
	// URL returns a string that Open turns back into an equivalent store.
	// It never contains credentials.
	URL() string
	// List returns every object whose key starts with prefix (a plain
	// string prefix, not a directory), sorted by key. An empty result is
	// not an error.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// OpenRange opens length bytes of an object from offset for reading;
	// length < 0 means to the end of the object. A range that runs past
	// the end is cut at the end; an offset at or past the end gives an
	// empty reader. The caller closes the reader.
	OpenRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Get reads a whole object.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put writes a whole object, replacing any previous one.
	Put(ctx context.Context, key string, data []byte) error
}

// Options configures Open. The zero value is ready to use: credentials
// from the AWS default chain (environment, shared files, IMDS) and the
// default HTTP client.
type Options struct {
	// Credentials, if set, is used by S3 stores instead of the default
	// chain, e.g. credentials.NewStaticCredentialsProvider(key, secret, "").
	Credentials aws.CredentialsProvider
}

// Open opens the store a URL names:
//
//   - "s3://bucket", "s3://bucket/prefix": an S3 store (see NewS3); the
//     prefix becomes the store's root, so keys are relative to it. Query
//     parameters: endpoint (an S3-compatible server, e.g.
//     http://127.0.0.1:9000), region (default: the AWS configuration's,
//     else us-east-1), path_style (true or false; default true when an
//     endpoint is given).
//   - "file:///dir" or a plain path: a Local store rooted at that
//     directory (relative paths are made absolute).
//
// Open checks a local root exists; it does not contact S3.
func Open(ctx context.Context, rawURL string) (Store, error) {
	return OpenWith(ctx, rawURL, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, rawURL string, opts Options) (Store, error) {
	switch {
	case rawURL == "":
		return nil, fmt.Errorf("%w: empty", ErrInvalidURL)
	case strings.HasPrefix(rawURL, "s3://"):
		o, err := parseS3URL(rawURL)
		if err != nil {
			return nil, err
		}
		o.Credentials = opts.Credentials
		return NewS3(ctx, o)
	case strings.HasPrefix(rawURL, "file://"):
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrInvalidURL, rawURL, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("%w: %q: file URLs must have an empty host", ErrInvalidURL, rawURL)
		}
		return NewLocal(filepath.FromSlash(u.Path))
	case strings.Contains(rawURL, "://"):
		return nil, fmt.Errorf("%w: %q: unsupported scheme (want s3://, file:// or a path)", ErrInvalidURL, rawURL)
	}
	return NewLocal(rawURL)
}

func parseS3URL(rawURL string) (S3Options, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return S3Options{}, fmt.Errorf("%w: %q: %w", ErrInvalidURL, rawURL, err)
	}
	if u.Host == "" {
		return S3Options{}, fmt.Errorf("%w: %q: no bucket", ErrInvalidURL, rawURL)
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "endpoint", "region", "path_style":
		default:
			return S3Options{}, fmt.Errorf("%w: %q: unknown parameter %q (want endpoint, region, path_style)", ErrInvalidURL, rawURL, k)
		}
	}
	o := S3Options{
		Bucket:   u.Host,
		Prefix:   strings.Trim(u.Path, "/"),
		Endpoint: q.Get("endpoint"),
		Region:   q.Get("region"),
	}
	o.UsePathStyle = o.Endpoint != ""
	if ps := q.Get("path_style"); ps != "" {
		b, err := strconv.ParseBool(ps)
		if err != nil {
			return S3Options{}, fmt.Errorf("%w: %q: path_style=%q is not a boolean", ErrInvalidURL, rawURL, ps)
		}
		o.UsePathStyle = b
	}
	return o, nil
}

// ReadAll reads a whole range: a convenience over OpenRange.
func ReadAll(ctx context.Context, s Store, key string, offset, length int64) ([]byte, error) {
	rc, err := s.OpenRange(ctx, key, offset, length)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("storage: read %q: %w", key, err)
	}
	return data, nil
}
