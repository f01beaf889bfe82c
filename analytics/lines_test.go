package analytics_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/analytics"
	"github.com/cloudbutton/cloudbutton/storage"
)

// fileLines is the reference definition of a file's lines.
func fileLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	parts := strings.Split(string(data), "\n")
	if parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

func randomFile(r *rand.Rand) []byte {
	var b bytes.Buffer
	switch r.IntN(10) {
	case 0:
		return nil // empty file
	case 1: // a single huge line, maybe terminated
		b.Write(bytes.Repeat([]byte("x"), 200_000+r.IntN(100_000)))
		if r.IntN(2) == 0 {
			b.WriteByte('\n')
		}
		return b.Bytes()
	case 2: // only newlines
		return bytes.Repeat([]byte("\n"), 1+r.IntN(20))
	}
	lines := r.IntN(60)
	for i := range lines {
		n := r.IntN(40)
		if r.IntN(15) == 0 {
			n = r.IntN(5000)
		}
		for range n {
			b.WriteByte(byte('a' + r.IntN(26)))
		}
		if i < lines-1 || r.IntN(2) == 0 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func readAllChunks(t *testing.T, st storage.Store, chunks []analytics.Chunk) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	for _, c := range chunks {
		err := analytics.ReadLines(context.Background(), st, c, func(line []byte) error {
			got[c.Key] = append(got[c.Key], string(line))
			return nil
		})
		require.NoError(t, err, "chunk %s", c)
	}
	return got
}

// TestReadLinesProperty: for random files and chunk sizes, the lines of
// all chunks, in order, are exactly the files' lines.
func TestReadLinesProperty(t *testing.T) {
	ctx := context.Background()
	st, err := storage.NewLocal(t.TempDir())
	require.NoError(t, err)
	for seed := range uint64(150) {
		r := rand.New(rand.NewPCG(seed, 42))
		prefix := fmt.Sprintf("case%03d/", seed)
		want := map[string][]string{}
		var total int64
		for i := range 1 + r.IntN(4) {
			key := fmt.Sprintf("%sf%d", prefix, i)
			data := randomFile(r)
			require.NoError(t, st.Put(ctx, key, data))
			if l := fileLines(data); l != nil {
				want[key] = l
			}
			total += int64(len(data))
		}
		req := analytics.PartitionRequest{Store: st.URL(), Prefix: prefix}
		if r.IntN(2) == 0 {
			req.ChunkSize = 1 + r.Int64N(total/3+10)
		} else {
			req.Chunks = 1 + r.IntN(50)
		}
		chunks, err := analytics.Partition(ctx, st, req)
		if total == 0 {
			require.ErrorIs(t, err, analytics.ErrEmptyInput, "seed %d", seed)
			continue
		}
		require.NoError(t, err, "seed %d", seed)
		// Chunks cover every object exactly, in order.
		covered := map[string]int64{}
		for _, c := range chunks {
			require.Equal(t, covered[c.Key], c.Offset, "seed %d: chunk %s", seed, c)
			require.Positive(t, c.Length)
			covered[c.Key] += c.Length
		}
		got := readAllChunks(t, st, chunks)
		require.Equal(t, want, got, "seed %d, request %+v, %d chunks", seed, req, len(chunks))
	}
}

func TestReadLinesEdges(t *testing.T) {
	ctx := context.Background()
	st, err := storage.NewLocal(t.TempDir())
	require.NoError(t, err)
	data := "ab\ncd\n\nef"
	require.NoError(t, st.Put(ctx, "f", []byte(data)))
	tests := []struct {
		offset, length int64
		want           []string
	}{
		{0, 9, []string{"ab", "cd", "", "ef"}},
		{0, 1, []string{"ab"}},
		{0, 3, []string{"ab"}},
		{0, 4, []string{"ab", "cd"}},
		{1, 2, nil},            // inside "ab\n": no line starts here
		{2, 1, nil},            // the "\n" of "ab"
		{3, 1, []string{"cd"}}, // starts exactly at a line
		{6, 1, []string{""}},   // the empty line
		{7, 2, []string{"ef"}},
		{8, 1, nil},
		{9, 5, nil}, // past the end
	}
	for _, tt := range tests {
		var got []string
		err := analytics.ReadLines(ctx, st, analytics.Chunk{Store: st.URL(), Key: "f", Offset: tt.offset, Length: tt.length},
			func(line []byte) error { got = append(got, string(line)); return nil })
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "[%d:+%d]", tt.offset, tt.length)
	}
	// Errors from the callback stop reading.
	stop := fmt.Errorf("stop")
	n := 0
	err = analytics.ReadLines(ctx, st, analytics.Chunk{Key: "f", Length: 9}, func([]byte) error { n++; return stop })
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, n)
	// A missing object is ErrNotFound.
	err = analytics.ReadLines(ctx, st, analytics.Chunk{Key: "nope", Length: 9}, func([]byte) error { return nil })
	assert.ErrorIs(t, err, storage.ErrNotFound)
}

func TestPartitionRequests(t *testing.T) {
	ctx := context.Background()
	st, err := storage.NewLocal(t.TempDir())
	require.NoError(t, err)
	require.NoError(t, st.Put(ctx, "in/a", make([]byte, 10)))
	require.NoError(t, st.Put(ctx, "in/b", make([]byte, 25)))
	require.NoError(t, st.Put(ctx, "in/empty", nil))
	u := st.URL()
	tests := []struct {
		name    string
		req     analytics.PartitionRequest
		want    []analytics.Chunk
		wantErr string
	}{
		{name: "by size", req: analytics.PartitionRequest{Store: u, Prefix: "in/", ChunkSize: 10}, want: []analytics.Chunk{
			{u, "in/a", 0, 10}, {u, "in/b", 0, 10}, {u, "in/b", 10, 10}, {u, "in/b", 20, 5}}},
		{name: "by count", req: analytics.PartitionRequest{Store: u, Prefix: "in/", Chunks: 2}, want: []analytics.Chunk{
			{u, "in/a", 0, 10}, {u, "in/b", 0, 18}, {u, "in/b", 18, 7}}},
		{name: "one chunk", req: analytics.PartitionRequest{Store: u, Prefix: "in/b", Chunks: 1}, want: []analytics.Chunk{{u, "in/b", 0, 25}}},
		{name: "empty corpus", req: analytics.PartitionRequest{Store: u, Prefix: "in/empty", Chunks: 1}, wantErr: `no data under prefix "in/empty"`},
		{name: "missing prefix", req: analytics.PartitionRequest{Store: u, Prefix: "nothing/", Chunks: 1}, wantErr: `no data under prefix "nothing/"`},
		{name: "neither", req: analytics.PartitionRequest{Store: u}, wantErr: "set ChunkSize or Chunks"},
		{name: "both", req: analytics.PartitionRequest{Store: u, Chunks: 1, ChunkSize: 1}, wantErr: "not both"},
		{name: "negative", req: analytics.PartitionRequest{Store: u, ChunkSize: -1}, wantErr: "negative ChunkSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := analytics.Partition(ctx, st, tt.req)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPack(t *testing.T) {
	c := func(n int64) analytics.Chunk { return analytics.Chunk{Length: n} }
	got := analytics.Pack([]analytics.Chunk{c(3), c(3), c(5), c(20), c(1), c(1)}, 8)
	assert.Equal(t, [][]analytics.Chunk{{c(3), c(3)}, {c(5)}, {c(20)}, {c(1), c(1)}}, got)
	assert.Nil(t, analytics.Pack(nil, 8))
}

// TestReadLinesS3 runs the property over S3 (gofakes3 on 127.0.0.1),
// where ReadLines issues real ranged GETs.
func TestReadLinesS3(t *testing.T) {
	ctx := context.Background()
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	require.NoError(t, backend.CreateBucket("corpus"))
	open := func(ctx context.Context, url string) (storage.Store, error) {
		return storage.OpenWith(ctx, url, storage.Options{Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", "")})
	}
	st, err := open(ctx, "s3://corpus/data?endpoint="+srv.URL)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(7, 7))
	want := map[string][]string{}
	for i := range 6 {
		key := fmt.Sprintf("f%d", i)
		data := randomFile(r)
		if i == 0 {
			data = bytes.Repeat([]byte("y"), 300_000) // one line longer than the overread
		}
		require.NoError(t, st.Put(ctx, key, data))
		if l := fileLines(data); l != nil {
			want[key] = l
		}
	}
	act := analytics.NewPartitionActivity("partition", open)
	chunks, err := act.Run(ctx, analytics.PartitionRequest{Store: st.URL(), ChunkSize: 1000})
	require.NoError(t, err)
	assert.Equal(t, readAllChunks(t, st, chunks), want)

	// Bad input through the activity: a non-retryable BadInput error.
	_, err = act.Run(ctx, analytics.PartitionRequest{Store: "s3://missing-bucket?endpoint=" + srv.URL, Chunks: 2})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"missing-bucket"`)
	assertBadInput(t, err)
}

func assertBadInput(t *testing.T, err error) {
	t.Helper()
	var ae *activity.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, analytics.ErrorTypeBadInput, ae.Type)
	assert.True(t, ae.NonRetryable, "bad input is not retried")
}
