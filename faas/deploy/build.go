package deploy

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// BuildOptions says how Build compiles a bootstrap.
type BuildOptions struct {
	// Package is the Go main package to build: an import path or a
	// directory such as "./samples/lambdafunc", resolved in Dir.
	Package string
	// Dir is the directory go build runs in (default: the current
	// directory); it must be inside the module that holds Package.
	Dir string
	// GOOS is the target system (default "linux", what Lambda runs; the
	// local function host runs the bootstrap natively, so build for
	// runtime.GOOS there).
	GOOS string
	// GOARCH is the target architecture (default runtime.GOARCH). Lambda
	// runs amd64 (x86_64) and arm64.
	GOARCH string
	// Tags are build tags, in addition to lambda.norpc.
	Tags []string
	// LDFlags is passed to go build -ldflags, e.g. "-s -w" or
	// "-X main.version=2".
	LDFlags string
	// GoCommand is the go command (default "go", found on PATH).
	GoCommand string
}

// Build compiles a bootstrap for the provided.al2023 runtime (see
// BuildBootstrap) and returns its deployment package (see ZipBootstrap).
func Build(ctx context.Context, opts BuildOptions) ([]byte, error) {
	dir, err := os.MkdirTemp("", "cloudbutton-deploy-")
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bootstrap")
	if err := BuildBootstrap(ctx, opts, bin); err != nil {
		return nil, err
	}
	return ZipBootstrap(bin)
}

// BuildBootstrap compiles opts.Package into the executable out, as Lambda's
// provided runtimes want it: CGO_ENABLED=0 GOOS=linux go build -trimpath
// -tags lambda.norpc. The build's own output is in the error when it fails.
func BuildBootstrap(ctx context.Context, opts BuildOptions, out string) error {
	if opts.Package == "" {
		return errors.New("deploy: BuildOptions.Package is empty (want a main package, e.g. ./samples/lambdafunc)")
	}
	if opts.GOOS == "" {
		opts.GOOS = "linux"
	}
	if opts.GOARCH == "" {
		opts.GOARCH = runtime.GOARCH
	}
	if opts.GoCommand == "" {
		opts.GoCommand = "go"
	}
	out, err := filepath.Abs(out) // go build runs in opts.Dir
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	tags := append([]string{"lambda.norpc"}, opts.Tags...)
	args := []string{"build", "-trimpath", "-tags", strings.Join(tags, ","), "-o", out}
	if opts.LDFlags != "" {
		args = append(args, "-ldflags", opts.LDFlags)
	}
	args = append(args, "--", opts.Package)
	cmd := exec.CommandContext(ctx, opts.GoCommand, args...)
	cmd.Dir = opts.Dir
	cmd.Env = append(os.Environ(), "GOOS="+opts.GOOS, "GOARCH="+opts.GOARCH, "CGO_ENABLED=0")
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("deploy: building %s: %w", opts.Package, ctx.Err())
		}
		return fmt.Errorf("deploy: building %s (GOOS=%s GOARCH=%s): %w\n%s", opts.Package, opts.GOOS, opts.GOARCH, err, strings.TrimSpace(output.String()))
	}
	return nil
}

// zipTime is the modification time of the zipped bootstrap: fixed, so that
// the same binary always makes the same package (and the same CodeSha256,
// which lets PublishVersion see that nothing changed).
var zipTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ZipBootstrap returns a deployment package holding the executable at path
// as "bootstrap", mode 0755, which is where and how Lambda's provided
// runtimes look for it.
func ZipBootstrap(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("deploy: bootstrap %s is not a regular file", path)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipTime}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, fmt.Errorf("deploy: zipping %s: %w", path, err)
	}
	if _, err := io.Copy(w, f); err != nil {
		return nil, fmt.Errorf("deploy: zipping %s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("deploy: zipping %s: %w", path, err)
	}
	return buf.Bytes(), nil
}

// Architecture returns Lambda's name for a Go architecture, or for one of
// Lambda's own names: amd64 and x86_64 are x86_64, arm64 is arm64.
func Architecture(arch string) (types.Architecture, error) {
	switch arch {
	case "amd64", "x86_64":
		return types.ArchitectureX8664, nil
	case "arm64":
		return types.ArchitectureArm64, nil
	}
	return "", fmt.Errorf("deploy: architecture %q: Lambda runs x86_64 (amd64) and arm64", arch)
}

// GOARCH returns the Go architecture for a Lambda architecture name (or a
// Go one): x86_64 and amd64 are amd64, arm64 is arm64.
func GOARCH(arch string) (string, error) {
	a, err := Architecture(arch)
	if err != nil {
		return "", err
	}
	if a == types.ArchitectureArm64 {
		return "arm64", nil
	}
	return "amd64", nil
}
