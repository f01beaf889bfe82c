package devserver

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFindCLIFromEnv(t *testing.T) {
	t.Setenv("TEMPORAL_CLI", "/opt/somewhere/temporal")
	p, err := FindCLI()
	require.NoError(t, err)
	assert.Equal(t, "/opt/somewhere/temporal", p)
}

func TestMissingCLINamesTheInstallCommand(t *testing.T) {
	t.Setenv("TEMPORAL_CLI", "")
	t.Setenv("PATH", t.TempDir())
	t.Setenv("GOPATH", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	_, err := Start(context.Background(), Options{})
	require.ErrorIs(t, err, ErrNoCLI)
	assert.Contains(t, err.Error(), InstallCommand)
}

func TestServerThatExitsEarly(t *testing.T) {
	script := filepath.Join(t.TempDir(), "temporal")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho 'cannot start: bad flag' >&2\nexit 3\n"), 0o755))
	t.Setenv("TEMPORAL_CLI", script)
	dir := t.TempDir()
	_, err := Start(context.Background(), Options{Dir: dir, ReadyTimeout: 30 * time.Second})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited before it was ready")
	assert.Contains(t, err.Error(), "cannot start: bad flag", "the server's output is in the error")
}

func TestStartStop(t *testing.T) {
	if _, err := FindCLI(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	srv, err := Start(context.Background(), Options{})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	require.Contains(t, srv.HostPort, "127.0.0.1:", "the server listens on loopback")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.check(ctx), "the server answers")
	own := srv.dir
	srv.Stop()
	srv.Stop() // idempotent
	_, statErr := os.Stat(own)
	assert.True(t, os.IsNotExist(statErr), "Stop removes the server's temporary directory")
	assert.Error(t, srv.check(ctx), "the server is gone")
}

func TestFreePort(t *testing.T) {
	p, err := FreePort()
	require.NoError(t, err)
	assert.Greater(t, p, 0)
}
