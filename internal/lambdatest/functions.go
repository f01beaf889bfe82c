package lambdatest

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The cases of the test functions, selected by the payload's "case" (or
// the envelope's "activity"). Both functions have CaseEcho, CaseError,
// CaseSleep and CaseExit; the others are one function's.
const (
	CaseEcho  = "echo"  // the payload back (plain: as is; curl: with the headers)
	CaseError = "error" // a function error; "errorType" and (plain) "message" shape it
	CaseSleep = "sleep" // sleep "sleepMs" (default one hour: past the timeout), ignoring the deadline
	CaseExit  = "exit"  // exit with "exitCode" (default 1) mid-invocation

	CasePanic   = "panic"   // plain: panic (aws-lambda-go reports it, then exits)
	CaseContext = "context" // plain: the invocation's context (request id, deadline, ARN, trace id, client context, env)

	CaseErrorExtraKeys  = "extra"             // curl: an error body with keys beyond Lambda's
	CaseResultLikeError = "result-like-error" // curl: a successful response shaped like an error
	CaseInitErrorLate   = "init-error"        // curl: /runtime/init/error during an invocation, then exit 1
)

// InitEnv, set in Options.Env, makes the curl runtime's init fail:
// InitEnvError posts /runtime/init/error and exits 1, InitEnvExit exits 2
// without a word to the Runtime API.
const (
	InitEnv      = "LAMBDATEST_INIT"
	InitEnvError = "error"
	InitEnvExit  = "exit"
)

// PlainPackage is the plain function's import path.
const PlainPackage = "github.com/cloudbutton/cloudbutton/internal/lambdatest/plainfunc"

const (
	plainBuildTimeLimit = 10 * time.Minute
	plainDirPrefix      = "plain-"
	plainTempDirBase    = "cloudbutton-lambdatest"
)

//go:embed curlruntime.sh
var curlRuntime []byte

// WriteCurlRuntime writes the bash and curl custom runtime (its cases in
// curlruntime.sh) as dir/bootstrap and returns its path. It fails tb if
// bash or curl is missing.
func WriteCurlRuntime(tb testing.TB, dir string) string {
	tb.Helper()
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Fatalf("lambdatest: the curl runtime needs %s on PATH: %v", tool, err)
		}
	}
	p := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(p, curlRuntime, 0o755); err != nil {
		tb.Fatalf("lambdatest: write the curl runtime: %v", err)
	}
	return p
}

var plain struct {
	once sync.Once
	path string
	err  error
}

// BuildPlain builds the plain aws-lambda-go function (PlainPackage, for
// linux with CGO_ENABLED=0 and -tags lambda.norpc, like a provided.al2023
// deployment) once per test binary, and returns the bootstrap's path. It
// fails tb if the build fails. The binary lives in a directory of the
// system's temporary directory that the first BuildPlain of a later test
// binary removes.
func BuildPlain(tb testing.TB) string {
	tb.Helper()
	plain.once.Do(func() { plain.path, plain.err = buildPlain() })
	if plain.err != nil {
		tb.Fatal(plain.err)
	}
	return plain.path
}

func buildPlain() (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("lambdatest: building the plain function needs the go command: %w", err)
	}
	base := filepath.Join(os.TempDir(), plainTempDirBase+"-"+strconv.Itoa(os.Getuid()))
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", fmt.Errorf("lambdatest: %w", err)
	}
	removeStale(base)
	dir := filepath.Join(base, plainDirPrefix+strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("lambdatest: %w", err)
	}
	out := filepath.Join(dir, "bootstrap")
	ctx, cancel := context.WithTimeout(context.Background(), plainBuildTimeLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-tags", "lambda.norpc", "-o", out, PlainPackage)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("lambdatest: go build %s: %w\n%s", PlainPackage, err, b)
	}
	return out, nil
}

// removeStale removes the build directories of test binaries no longer
// running.
func removeStale(base string) {
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		pid, err := strconv.Atoi(strings.TrimPrefix(e.Name(), plainDirPrefix))
		if err != nil || !strings.HasPrefix(e.Name(), plainDirPrefix) || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(filepath.Join(base, e.Name()))
		}
	}
}
