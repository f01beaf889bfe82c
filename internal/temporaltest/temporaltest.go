// Package temporaltest is the testing glue over internal/devserver: Main
// runs a test binary against one shared Temporal dev server, and Require
// hands it to a test or skips the test (naming the install command) when
// the temporal CLI is missing. Starting and stopping the server process is
// devserver's job; this package only adds what needs package testing.
package temporaltest

import "github.com/cloudbutton/cloudbutton/internal/devserver"

// Server is a running dev server (see devserver.Server).
type Server = devserver.Server

// ErrNoCLI is devserver.ErrNoCLI: the temporal CLI is not installed.
var ErrNoCLI = devserver.ErrNoCLI

// FindCLI returns the path of the temporal CLI (see devserver.FindCLI).
func FindCLI() (string, error) { return devserver.FindCLI() }
