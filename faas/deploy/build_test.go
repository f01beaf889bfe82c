package deploy_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/deploy"
)

func TestZipBootstrap(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "mybinary")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\necho hi\n"), 0o700))
	pkg, err := deploy.ZipBootstrap(bin)
	require.NoError(t, err)
	again, err := deploy.ZipBootstrap(bin)
	require.NoError(t, err)
	require.Equal(t, pkg, again, "the same file makes the same package")

	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)
	f := zr.File[0]
	require.Equal(t, "bootstrap", f.Name)
	require.Equal(t, os.FileMode(0o755), f.Mode().Perm())
	require.True(t, f.Mode().IsRegular())
	rc, err := f.Open()
	require.NoError(t, err)
	body, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.Equal(t, "#!/bin/sh\necho hi\n", string(body))

	_, err = deploy.ZipBootstrap(t.TempDir())
	require.ErrorContains(t, err, "not a regular file")
	_, err = deploy.ZipBootstrap(filepath.Join(t.TempDir(), "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	pkg, err := deploy.Build(context.Background(), deploy.BuildOptions{
		Package: "github.com/cloudbutton/cloudbutton/samples/lambdafunc", GOOS: runtime.GOOS,
	})
	require.NoError(t, err)
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)
	require.Equal(t, "bootstrap", zr.File[0].Name)
	require.Equal(t, os.FileMode(0o755), zr.File[0].Mode().Perm())
	require.Greater(t, zr.File[0].UncompressedSize64, uint64(1<<20), "a Go binary")
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		opts deploy.BuildOptions
		want string
	}{
		{"no package", deploy.BuildOptions{}, "Package is empty"},
		{"not a package", deploy.BuildOptions{Package: "./no/such/package"}, "building ./no/such/package"},
		{"no go", deploy.BuildOptions{Package: ".", GoCommand: filepath.Join(t.TempDir(), "no-go")}, "building ."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := deploy.Build(context.Background(), tt.opts)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestArchitecture(t *testing.T) {
	tests := []struct {
		in     string
		lambda types.Architecture
		goarch string
		ok     bool
	}{
		{"amd64", types.ArchitectureX8664, "amd64", true},
		{"x86_64", types.ArchitectureX8664, "amd64", true},
		{"arm64", types.ArchitectureArm64, "arm64", true},
		{"386", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		a, err := deploy.Architecture(tt.in)
		g, gerr := deploy.GOARCH(tt.in)
		if !tt.ok {
			require.Error(t, err, tt.in)
			require.Error(t, gerr, tt.in)
			continue
		}
		require.NoError(t, err)
		require.NoError(t, gerr)
		require.Equal(t, tt.lambda, a)
		require.Equal(t, tt.goarch, g)
	}
}

// TestDeployOptions checks the options Deploy refuses before calling
// anything (the client points at a closed port).
func TestDeployOptions(t *testing.T) {
	client, err := awslambda.NewClient(context.Background(), awslambda.ClientConfig{
		Region: "us-east-1", Endpoint: "http://127.0.0.1:1", AccessKeyID: "x", SecretAccessKey: "x"})
	require.NoError(t, err)
	pkg := []byte("PK")
	tests := []struct {
		name string
		pkg  []byte
		opts deploy.Options
		want string
	}{
		{"no name", pkg, deploy.Options{}, "FunctionName is empty"},
		{"empty package", nil, deploy.Options{FunctionName: "f"}, "package is empty"},
		{"too large", make([]byte, deploy.MaxZipSize+1), deploy.Options{FunctionName: "f"}, "over Lambda's 50000000"},
		{"numeric alias", pkg, deploy.Options{FunctionName: "f", Alias: "12"}, `alias "12"`},
		{"$LATEST alias", pkg, deploy.Options{FunctionName: "f", Alias: "$LATEST"}, `alias "$LATEST"`},
		{"bad arch", pkg, deploy.Options{FunctionName: "f", Architecture: "mips"}, `architecture "mips"`},
		{"fractional timeout", pkg, deploy.Options{FunctionName: "f", Timeout: 1500 * time.Millisecond}, "whole number of seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := deploy.Deploy(context.Background(), client, tt.pkg, tt.opts)
			require.ErrorContains(t, err, tt.want)
			require.False(t, strings.Contains(err.Error(), "127.0.0.1:1"), "no call was made: %v", err)
		})
	}
	_, err = deploy.Deploy(context.Background(), nil, pkg, deploy.Options{FunctionName: "f"})
	require.ErrorContains(t, err, "nil Lambda client")
}
