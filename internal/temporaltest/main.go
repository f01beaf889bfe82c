package temporaltest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/cloudbutton/cloudbutton/internal/devserver"
)

// Shared is the dev server of the running test binary, set by Main; nil
// when the CLI is missing outside CI.
var Shared *Server

// skipReason is why Shared is nil.
var skipReason string

// Main runs the tests of a package against one dev server: call it from
// TestMain. When the temporal CLI is missing, tests that call Require are
// skipped with the install command, except under CI (CI=true), where the
// run fails. Benchmarks use the same server.
// After the tests pass and the server has stopped, each of after runs (a
// goroutine-leak check, say); an error fails the run.
func Main(m *testing.M, after ...func() error) {
	os.Exit(run(m, after))
}

func run(m *testing.M, after []func() error) int {
	srv, err := devserver.Start(context.Background(), devserver.Options{})
	switch {
	case errors.Is(err, ErrNoCLI) && os.Getenv("CI") == "":
		skipReason = err.Error()
	case err != nil:
		fmt.Fprintln(os.Stderr, "temporaltest:", err)
		return 1
	default:
		Shared = srv
	}
	code := m.Run()
	if Shared != nil {
		Shared.Stop()
		Shared = nil
	}
	if code != 0 {
		return code
	}
	for _, check := range after {
		if err := check(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// Require returns the shared dev server, or skips tb (naming the install
// command) when the CLI is missing.
func Require(tb testing.TB) *Server {
	tb.Helper()
	if Shared == nil {
		if skipReason == "" {
			skipReason = "no dev server: call temporaltest.Main from TestMain"
		}
		tb.Skip(skipReason)
	}
	return Shared
}
