package telemetry_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The example starts a worker: it must stop everything it starts.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
