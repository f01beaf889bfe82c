package temporaltest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/cloudbutton/cloudbutton/internal/devserver"
)

// Shared is the dev server of the running test binary, set by Main (by
// MainLazy at the first Require); nil when the CLI is missing outside CI.
var Shared *Server

// skipReason is why Shared is nil.
var skipReason string

// lazy is set by MainLazy: Require starts the server once.
var (
	lazy      bool
	lazyOnce  sync.Once
	lazyStart error
)

// Main runs the tests of a package against one dev server: call it from
// TestMain. When the temporal CLI is missing, tests that call Require are
// skipped with the install command, except under CI (CI=true), where the
// run fails. Benchmarks use the same server.
// After the tests pass and the server has stopped, each of after runs (a
// goroutine-leak check, say); an error fails the run.
func Main(m *testing.M, after ...func() error) {
	os.Exit(run(m, after, false))
}

// MainLazy is Main for a package whose Temporal tests are a few among
// many (and whose fuzz targets and benchmarks need no server): the dev
// server starts at the first Require, not before the tests, and a run
// that requires none starts none.
func MainLazy(m *testing.M, after ...func() error) {
	os.Exit(run(m, after, true))
}

func run(m *testing.M, after []func() error, isLazy bool) int {
	lazy = isLazy
	if !lazy {
		if err := start(); err != nil {
			fmt.Fprintln(os.Stderr, "temporaltest:", err)
			return 1
		}
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

// start starts Shared, or sets skipReason when the CLI is missing outside
// CI; any other failure is returned.
func start() error {
	srv, err := devserver.Start(context.Background(), devserver.Options{})
	switch {
	case errors.Is(err, ErrNoCLI) && os.Getenv("CI") == "":
		skipReason = err.Error()
	case err != nil:
		return err
	default:
		Shared = srv
	}
	return nil
}

// Require returns the shared dev server, or skips tb (naming the install
// command) when the CLI is missing. Under MainLazy the first call starts
// the server (a failure to start fails tb); Require is safe for
// concurrent use.
func Require(tb testing.TB) *Server {
	tb.Helper()
	if lazy {
		lazyOnce.Do(func() { lazyStart = start() })
		if lazyStart != nil {
			tb.Fatalf("temporaltest: %v", lazyStart)
		}
	}
	if Shared == nil {
		if skipReason == "" {
			skipReason = "no dev server: call temporaltest.Main from TestMain"
		}
		tb.Skip(skipReason)
	}
	return Shared
}
