package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/store"
	"github.com/cloudbutton/cloudbutton/internal/store/sqlite"
	"github.com/cloudbutton/cloudbutton/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), sqlite.Options{})
		require.NoError(t, err)
		return s
	})
}

func TestOpenRejectsBadFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s, err := sqlite.Open(ctx, good, sqlite.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	data, err := os.ReadFile(good)
	require.NoError(t, err)

	tests := []struct {
		name    string
		content func(path string)
		wantIs  error
		want    string
	}{
		{"not a database", func(p string) {
			os.WriteFile(p, []byte("this is a text file, not a database, but long enough to look like one..."), 0o644)
		},
			store.ErrCorrupt, "not a database"},
		{"truncated", func(p string) { os.WriteFile(p, data[:len(data)/2], 0o644) }, store.ErrCorrupt, "corrupt"},
		{"garbage in the middle", func(p string) {
			bad := append([]byte(nil), data...)
			for i := 4096; i < len(bad) && i < 4096*3; i++ {
				bad[i] = 0xAB
			}
			os.WriteFile(p, bad, 0o644)
		}, store.ErrCorrupt, "corrupt"},
		{"newer schema", func(p string) {
			os.WriteFile(p, data, 0o644)
			s, err := sqlite.Open(ctx, p, sqlite.Options{})
			require.NoError(t, err)
			require.NoError(t, s.Close())
			bumpVersion(t, p, 99)
		}, store.ErrSchemaTooNew, "has schema version 99, this build supports up to "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.db")
			tt.content(p)
			_, err := sqlite.Open(ctx, p, sqlite.Options{})
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.wantIs)
			assert.Contains(t, err.Error(), p, "the error names the file")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err = sqlite.Open(ctx, filepath.Join(dir, "no-such-dir", "x.db"), sqlite.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no-such-dir")
}
