package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Options configures an S3 store.
type S3Options struct {
	// Bucket is required.
	Bucket string
	// Prefix is the store's root inside the bucket: keys are relative to
	// it ("corpus" and "corpus/" both root the store at "corpus/").
	Prefix string
	// Endpoint overrides the S3 endpoint, for S3-compatible servers
	// (MinIO, gofakes3, ...), e.g. "http://127.0.0.1:9000".
	Endpoint string
	// Region; empty means the AWS configuration's region, else us-east-1.
	Region string
	// UsePathStyle addresses buckets as endpoint/bucket/key instead of
	// bucket.endpoint/key, as most S3-compatible servers need.
	UsePathStyle bool
	// Credentials; nil means the AWS default credential chain.
	Credentials aws.CredentialsProvider
}

// S3 is a Store over an S3 bucket, or a prefix of one. It is safe for
// concurrent use.
type S3 struct {
	client *s3.Client
	o      S3Options
	prefix string // "" or "<prefix>/"
}

var _ Store = (*S3)(nil)

// NewS3 returns a store over o.Bucket. It loads the AWS configuration but
// does not contact S3: a missing bucket shows up as a *BucketNotFoundError
// from the first operation.
func NewS3(ctx context.Context, o S3Options) (*S3, error) {
	if o.Bucket == "" {
		return nil, fmt.Errorf("%w: S3 store without a bucket", ErrInvalidURL)
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: S3 endpoint %q is not an http(s) URL", ErrInvalidURL, o.Endpoint)
		}
	}
	var loads []func(*config.LoadOptions) error
	if o.Region != "" {
		loads = append(loads, config.WithRegion(o.Region))
	}
	if o.Credentials != nil {
		loads = append(loads, config.WithCredentialsProvider(o.Credentials))
	}
	if o.Endpoint != "" {
		// S3-compatible servers often reject the newer default integrity
		// checksums; send and check them only when the API requires it.
		loads = append(loads,
			config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("storage: S3 configuration for bucket %q: %w", o.Bucket, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	o.Region = cfg.Region
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.UsePathStyle = o.UsePathStyle
		so.DisableLogOutputChecksumValidationSkipped = true
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
	st := &S3{client: client, o: o}
	if p := strings.Trim(o.Prefix, "/"); p != "" {
		st.prefix = p + "/"
	}
	return st, nil
}

// Client returns the underlying S3 client.
func (s *S3) Client() *s3.Client { return s.client }

// URL returns "s3://bucket/prefix?endpoint=...&region=...&path_style=...".
func (s *S3) URL() string {
	u := url.URL{Scheme: "s3", Host: s.o.Bucket, Path: "/" + strings.TrimSuffix(s.prefix, "/")}
	q := url.Values{}
	if s.o.Endpoint != "" {
		q.Set("endpoint", s.o.Endpoint)
	}
	q.Set("region", s.o.Region)
	q.Set("path_style", strconv.FormatBool(s.o.UsePathStyle))
	u.RawQuery = q.Encode()
	return u.String()
}

func (s *S3) key(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return "", fmt.Errorf("%w: %q (want a non-empty key without a leading or trailing slash)", ErrInvalidKey, key)
	}
	return s.prefix + key, nil
}

// mapErr turns S3 errors into this package's errors.
func (s *S3) mapErr(op, key string, err error) error {
	var nsb *types.NoSuchBucket
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var api smithy.APIError
	switch {
	case errors.As(err, &nsb):
		return &BucketNotFoundError{Bucket: s.o.Bucket, Err: err}
	case errors.As(err, &nsk), errors.As(err, &nf):
		return fmt.Errorf("%w: %q in %s: %w", ErrNotFound, key, s.URL(), err)
	case errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket":
		return &BucketNotFoundError{Bucket: s.o.Bucket, Err: err}
	case errors.As(err, &api) && api.ErrorCode() == "NoSuchKey":
		return fmt.Errorf("%w: %q in %s: %w", ErrNotFound, key, s.URL(), err)
	}
	return fmt.Errorf("storage: %s %q in %s: %w", op, key, s.URL(), err)
}

// List pages through ListObjectsV2. Keys ending in "/" (folder markers)
// are skipped. S3 returns keys in byte order, which List keeps.
func (s *S3) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	if strings.HasPrefix(prefix, "/") {
		return nil, fmt.Errorf("%w: prefix %q starts with a slash", ErrInvalidKey, prefix)
	}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.o.Bucket),
		Prefix: aws.String(s.prefix + prefix),
	})
	var out []ObjectInfo
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.mapErr("list", prefix, err)
		}
		for _, obj := range page.Contents {
			k := strings.TrimPrefix(aws.ToString(obj.Key), s.prefix)
			if k == "" || strings.HasSuffix(k, "/") {
				continue
			}
			out = append(out, ObjectInfo{Key: k, Size: aws.ToInt64(obj.Size)})
		}
	}
	return out, nil
}

// OpenRange issues a ranged GetObject. The body streams: close it early to
// read less.
func (s *S3) OpenRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, fmt.Errorf("storage: open %q: negative offset %d", key, offset)
	}
	full, err := s.key(key)
	if err != nil {
		return nil, err
	}
	if length == 0 {
		// Still report a missing object or bucket.
		if _, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.o.Bucket), Key: aws.String(full)}); err != nil {
			if s.bucketMissing(ctx) {
				return nil, &BucketNotFoundError{Bucket: s.o.Bucket, Err: err}
			}
			return nil, s.mapErr("open", key, err)
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	in := &s3.GetObjectInput{Bucket: aws.String(s.o.Bucket), Key: aws.String(full)}
	if offset > 0 || length > 0 {
		r := "bytes=" + strconv.FormatInt(offset, 10) + "-"
		if length > 0 {
			r += strconv.FormatInt(offset+length-1, 10)
		}
		in.Range = aws.String(r)
	}
	res, err := s.client.GetObject(ctx, in)
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "InvalidRange" {
			// The offset is at or past the end of the object.
			return io.NopCloser(bytes.NewReader(nil)), nil
		}
		return nil, s.mapErr("open", key, err)
	}
	return res.Body, nil
}

// bucketMissing tells apart a missing bucket from a missing key after a
// HEAD request, whose 404 carries no error code.
func (s *S3) bucketMissing(ctx context.Context) bool {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.o.Bucket)})
	var nf *types.NotFound
	var nsb *types.NoSuchBucket
	return errors.As(err, &nf) || errors.As(err, &nsb)
}

// Get reads a whole object.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	return ReadAll(ctx, s, key, 0, -1)
}

// Put writes a whole object with PutObject.
func (s *S3) Put(ctx context.Context, key string, data []byte) error {
	full, err := s.key(key)
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.o.Bucket),
		Key:           aws.String(full),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return s.mapErr("put", key, err)
	}
	return nil
}
