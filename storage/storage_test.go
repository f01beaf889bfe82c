package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/storage"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeS3 is a real S3-compatible server (gofakes3, in memory) on
// 127.0.0.1, stopped at the end of the test.
type fakeS3 struct {
	backend *s3mem.Backend
	srv     *httptest.Server
}

func startFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return &fakeS3{backend: backend, srv: srv}
}

func (f *fakeS3) opts() storage.Options {
	return storage.Options{
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
	}
}

// url names bucket (and prefix) on this server.
func (f *fakeS3) url(bucketAndPrefix string) string {
	return "s3://" + bucketAndPrefix + "?endpoint=" + f.srv.URL + "&region=us-east-1"
}

func (f *fakeS3) open(t *testing.T, bucketAndPrefix string) storage.Store {
	t.Helper()
	st, err := storage.OpenWith(context.Background(), f.url(bucketAndPrefix), f.opts())
	require.NoError(t, err)
	return st
}

type impl struct {
	name string
	// fresh returns an empty store and reopens stores by URL.
	fresh  func(t *testing.T) storage.Store
	reopen func(t *testing.T, url string) storage.Store
}

func impls(t *testing.T) []impl {
	fs := startFakeS3(t)
	n := 0
	return []impl{
		{
			name: "local",
			fresh: func(t *testing.T) storage.Store {
				st, err := storage.NewLocal(t.TempDir())
				require.NoError(t, err)
				return st
			},
			reopen: func(t *testing.T, url string) storage.Store {
				st, err := storage.Open(context.Background(), url)
				require.NoError(t, err)
				return st
			},
		},
		{
			name: "s3",
			fresh: func(t *testing.T) storage.Store {
				n++
				bucket := fmt.Sprintf("bucket%d", n)
				require.NoError(t, fs.backend.CreateBucket(bucket))
				return fs.open(t, bucket)
			},
			reopen: func(t *testing.T, url string) storage.Store {
				st, err := storage.OpenWith(context.Background(), url, fs.opts())
				require.NoError(t, err)
				return st
			},
		},
		{
			name: "s3-prefix",
			fresh: func(t *testing.T) storage.Store {
				n++
				bucket := fmt.Sprintf("bucket%d", n)
				require.NoError(t, fs.backend.CreateBucket(bucket))
				// An object outside the store's root must stay invisible.
				outside := fs.open(t, bucket)
				require.NoError(t, outside.Put(context.Background(), "a-outside", []byte("x")))
				return fs.open(t, bucket+"/root/dir")
			},
			reopen: func(t *testing.T, url string) storage.Store {
				st, err := storage.OpenWith(context.Background(), url, fs.opts())
				require.NoError(t, err)
				return st
			},
		},
	}
}

func put(t *testing.T, st storage.Store, objs map[string]string) {
	t.Helper()
	for k, v := range objs {
		require.NoError(t, st.Put(context.Background(), k, []byte(v)), k)
	}
}

// TestConformance runs one suite against every implementation.
func TestConformance(t *testing.T) {
	ctx := context.Background()
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			t.Run("put get roundtrip", func(t *testing.T) {
				st := im.fresh(t)
				bin := []byte{0, 1, 2, 0xff, 0xfe, '\n', 0x80}
				require.NoError(t, st.Put(ctx, "bin/data", bin))
				got, err := st.Get(ctx, "bin/data")
				require.NoError(t, err)
				assert.Equal(t, bin, got)
				require.NoError(t, st.Put(ctx, "bin/data", []byte("replaced")))
				got, err = st.Get(ctx, "bin/data")
				require.NoError(t, err)
				assert.Equal(t, "replaced", string(got))
				require.NoError(t, st.Put(ctx, "empty", nil))
				got, err = st.Get(ctx, "empty")
				require.NoError(t, err)
				assert.Empty(t, got)
			})
			t.Run("list is sorted and filters by plain prefix", func(t *testing.T) {
				st := im.fresh(t)
				put(t, st, map[string]string{
					"a/b": "1", "a.txt": "22", "ab": "333", "a/c/d": "4444", "b/x": "55555", "a/c.go": "",
				})
				tests := []struct {
					prefix string
					want   []storage.ObjectInfo
				}{
					{"", []storage.ObjectInfo{{"a.txt", 2}, {"a/b", 1}, {"a/c.go", 0}, {"a/c/d", 4}, {"ab", 3}, {"b/x", 5}}},
					{"a", []storage.ObjectInfo{{"a.txt", 2}, {"a/b", 1}, {"a/c.go", 0}, {"a/c/d", 4}, {"ab", 3}}},
					{"a/", []storage.ObjectInfo{{"a/b", 1}, {"a/c.go", 0}, {"a/c/d", 4}}},
					{"a/c", []storage.ObjectInfo{{"a/c.go", 0}, {"a/c/d", 4}}},
					{"a/c/", []storage.ObjectInfo{{"a/c/d", 4}}},
					{"b/x", []storage.ObjectInfo{{"b/x", 5}}},
					{"nothing/here/", nil},
					{"a/b/", nil},
					{"zz", nil},
				}
				for _, tt := range tests {
					got, err := st.List(ctx, tt.prefix)
					require.NoError(t, err, "prefix %q", tt.prefix)
					assert.Equal(t, tt.want, got, "prefix %q", tt.prefix)
				}
			})
			t.Run("open range", func(t *testing.T) {
				st := im.fresh(t)
				put(t, st, map[string]string{"f": "0123456789", "zero": ""})
				tests := []struct {
					key            string
					offset, length int64
					want           string
				}{
					{"f", 0, -1, "0123456789"},
					{"f", 0, 10, "0123456789"},
					{"f", 3, 4, "3456"},
					{"f", 3, -1, "3456789"},
					{"f", 8, 100, "89"},
					{"f", 9, 1, "9"},
					{"f", 10, -1, ""},
					{"f", 10, 5, ""},
					{"f", 50, 5, ""},
					{"f", 2, 0, ""},
					{"zero", 0, -1, ""},
					{"zero", 0, 5, ""},
				}
				for _, tt := range tests {
					got, err := storage.ReadAll(ctx, st, tt.key, tt.offset, tt.length)
					require.NoError(t, err, "%s[%d:+%d]", tt.key, tt.offset, tt.length)
					assert.Equal(t, tt.want, string(got), "%s[%d:+%d]", tt.key, tt.offset, tt.length)
				}
				_, err := st.OpenRange(ctx, "f", -1, 2)
				assert.ErrorContains(t, err, "negative offset")
			})
			t.Run("missing object", func(t *testing.T) {
				st := im.fresh(t)
				put(t, st, map[string]string{"present": "x"})
				_, err := st.Get(ctx, "absent")
				require.ErrorIs(t, err, storage.ErrNotFound)
				assert.Contains(t, err.Error(), `"absent"`)
				for _, r := range [][2]int64{{0, -1}, {5, 10}, {0, 0}} {
					_, err = st.OpenRange(ctx, "absent", r[0], r[1])
					require.ErrorIs(t, err, storage.ErrNotFound, "range %v", r)
				}
			})
			t.Run("invalid keys", func(t *testing.T) {
				st := im.fresh(t)
				for _, k := range []string{"", "/abs", "dir/"} {
					assert.ErrorIs(t, st.Put(ctx, k, []byte("x")), storage.ErrInvalidKey, "key %q", k)
					_, err := st.Get(ctx, k)
					assert.ErrorIs(t, err, storage.ErrInvalidKey, "key %q", k)
				}
				_, err := st.List(ctx, "/abs")
				assert.ErrorIs(t, err, storage.ErrInvalidKey)
			})
			t.Run("reopen by URL", func(t *testing.T) {
				st := im.fresh(t)
				put(t, st, map[string]string{"k/v": "value"})
				again := im.reopen(t, st.URL())
				assert.Equal(t, st.URL(), again.URL())
				got, err := again.Get(ctx, "k/v")
				require.NoError(t, err)
				assert.Equal(t, "value", string(got))
				list, err := again.List(ctx, "")
				require.NoError(t, err)
				assert.Equal(t, []storage.ObjectInfo{{"k/v", 5}}, list)
			})
			t.Run("canceled context", func(t *testing.T) {
				st := im.fresh(t)
				put(t, st, map[string]string{"k": "v"})
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				_, err := st.List(cctx, "")
				assert.ErrorIs(t, err, context.Canceled)
				_, err = st.Get(cctx, "k")
				assert.ErrorIs(t, err, context.Canceled)
			})
		})
	}
}

func TestMissingBucket(t *testing.T) {
	ctx := context.Background()
	t.Run("s3", func(t *testing.T) {
		fs := startFakeS3(t)
		st := fs.open(t, "no-such-bucket")
		_, err := st.List(ctx, "")
		var be *storage.BucketNotFoundError
		require.ErrorAs(t, err, &be)
		assert.Equal(t, "no-such-bucket", be.Bucket)
		assert.ErrorIs(t, err, storage.ErrBucketNotFound)
		assert.Contains(t, err.Error(), `"no-such-bucket"`)

		_, err = st.Get(ctx, "k")
		require.ErrorAs(t, err, &be)
		_, err = st.OpenRange(ctx, "k", 0, 0)
		require.ErrorAs(t, err, &be)
		err = st.Put(ctx, "k", []byte("x"))
		require.ErrorAs(t, err, &be)
	})
	t.Run("local", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "missing")
		_, err := storage.Open(ctx, dir)
		var be *storage.BucketNotFoundError
		require.ErrorAs(t, err, &be)
		assert.Equal(t, dir, be.Bucket)
		assert.Contains(t, err.Error(), dir)

		// A root removed after opening.
		dir2 := filepath.Join(t.TempDir(), "gone")
		require.NoError(t, os.Mkdir(dir2, 0o755))
		st, err := storage.Open(ctx, dir2)
		require.NoError(t, err)
		require.NoError(t, os.Remove(dir2))
		_, err = st.List(ctx, "")
		require.ErrorAs(t, err, &be)
		_, err = st.Get(ctx, "k")
		require.ErrorAs(t, err, &be)
		require.ErrorAs(t, st.Put(ctx, "k", nil), &be)
	})
}

func TestLocalSkipsNonRegularFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "real"), []byte("abc"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "link")))
	require.NoError(t, os.Symlink(filepath.Join(dir, "sub"), filepath.Join(dir, "sublink")))
	st, err := storage.NewLocal(dir)
	require.NoError(t, err)
	list, err := st.List(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, []storage.ObjectInfo{{"real", 3}}, list)
	_, err = st.Get(ctx, "sub")
	assert.ErrorIs(t, err, storage.ErrNotFound)
	_, err = st.Get(ctx, "../x")
	assert.ErrorIs(t, err, storage.ErrInvalidKey)

	// A root given through a symbolic link is resolved.
	link := filepath.Join(t.TempDir(), "rootlink")
	require.NoError(t, os.Symlink(dir, link))
	st2, err := storage.Open(ctx, "file://"+link)
	require.NoError(t, err)
	list, err = st2.List(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, []storage.ObjectInfo{{"real", 3}}, list)

	// A file as root is an error naming it.
	_, err = storage.NewLocal(filepath.Join(dir, "real"))
	assert.ErrorContains(t, err, "is not a directory")
}

func TestOpenURLs(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		url     string
		wantURL string
		wantErr string
	}{
		{url: "s3://b", wantURL: "s3://b/?path_style=false&region=eu-west-1"},
		{url: "s3://b/p/q/?region=eu-west-1", wantURL: "s3://b/p/q?path_style=false&region=eu-west-1"},
		{url: "s3://b/p?endpoint=http://127.0.0.1:9000", wantURL: "s3://b/p?endpoint=http%3A%2F%2F127.0.0.1%3A9000&path_style=true&region=eu-west-1"},
		{url: "s3://b?endpoint=http://127.0.0.1:9000&path_style=false", wantURL: "s3://b/?endpoint=http%3A%2F%2F127.0.0.1%3A9000&path_style=false&region=eu-west-1"},
		{url: "", wantErr: "empty"},
		{url: "s3://", wantErr: "no bucket"},
		{url: "s3://b?bogus=1", wantErr: `unknown parameter "bogus"`},
		{url: "s3://b?path_style=maybe", wantErr: `path_style="maybe"`},
		{url: "s3://b?endpoint=ftp://x", wantErr: `endpoint "ftp://x"`},
		{url: "gs://b/x", wantErr: "unsupported scheme"},
		{url: "file://host/x", wantErr: "empty host"},
	}
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			st, err := storage.Open(ctx, tt.url)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, storage.ErrInvalidURL)
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantURL, st.URL())
		})
	}
}

func TestS3LargeListingPages(t *testing.T) {
	// More than one ListObjectsV2 page (1,000 keys).
	ctx := context.Background()
	fs := startFakeS3(t)
	require.NoError(t, fs.backend.CreateBucket("big"))
	st := fs.open(t, "big")
	const n = 1203
	for i := range n {
		require.NoError(t, st.Put(ctx, fmt.Sprintf("k/%05d", i), []byte(strings.Repeat("x", i%7))))
	}
	list, err := st.List(ctx, "k/")
	require.NoError(t, err)
	require.Len(t, list, n)
	for i, o := range list {
		assert.Equal(t, fmt.Sprintf("k/%05d", i), o.Key)
		assert.Equal(t, int64(i%7), o.Size)
	}
}

func TestS3StreamsRange(t *testing.T) {
	ctx := context.Background()
	fs := startFakeS3(t)
	require.NoError(t, fs.backend.CreateBucket("b"))
	st := fs.open(t, "b")
	data := bytes.Repeat([]byte("0123456789"), 100_000)
	require.NoError(t, st.Put(ctx, "big", data))
	rc, err := st.OpenRange(ctx, "big", 500_000, -1)
	require.NoError(t, err)
	head := make([]byte, 20)
	_, err = io.ReadFull(rc, head)
	require.NoError(t, err)
	require.NoError(t, rc.Close()) // closing early is fine
	assert.Equal(t, data[500_000:500_020], head)
	assert.False(t, errors.Is(err, storage.ErrNotFound))
}
