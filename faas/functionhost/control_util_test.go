package functionhost_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/require"
)

// entry is a file of a test zip: its body is a symbolic link's target.
type entry struct {
	name, body string
	mode       fs.FileMode
}

func zipOf(tb testing.TB, entries ...entry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		hdr.SetMode(e.mode)
		w, err := zw.CreateHeader(hdr)
		require.NoError(tb, err)
		_, err = io.WriteString(w, e.body)
		require.NoError(tb, err)
	}
	require.NoError(tb, zw.Close())
	return buf.Bytes()
}

// hugeZip is a small zip whose header says its bootstrap is 300 MB.
func hugeZip(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Store, CompressedSize64: 1, UncompressedSize64: 300 << 20}
	hdr.SetMode(0o755)
	w, err := zw.CreateRaw(hdr)
	require.NoError(tb, err)
	_, err = w.Write([]byte{0})
	require.NoError(tb, err)
	require.NoError(tb, zw.Close())
	return buf.Bytes()
}

// zeros reads zero bytes forever.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// rawRequest sends what the SDK would not, and returns the response.
func rawRequest(tb testing.TB, method, url string, body io.Reader) (int, http.Header, []byte) {
	tb.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	var payload []byte
	if body != nil {
		var err error
		payload, err = io.ReadAll(io.LimitReader(body, 80<<20))
		require.NoError(tb, err)
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(payload))
	require.NoError(tb, err)
	req.Header.Set("Content-Type", "application/json")
	sign(tb, req, payload)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	return resp.StatusCode, resp.Header, b
}

// sign signs req as the SDK does, with newClient's credentials.
func sign(tb testing.TB, req *http.Request, payload []byte) {
	tb.Helper()
	sum := sha256.Sum256(payload)
	require.NoError(tb, v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"},
		req, hex.EncodeToString(sum[:]), "lambda", "us-east-1", time.Now()))
}
