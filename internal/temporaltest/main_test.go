package temporaltest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRequireSkipsWithoutAServer(t *testing.T) {
	var sub *testing.T
	t.Run("require", func(t *testing.T) {
		sub = t
		Require(t)
		t.Error("Require returned without a server")
	})
	assert.True(t, sub.Skipped(), "a test without a shared server is skipped")
}

func TestErrNoCLIIsDevservers(t *testing.T) {
	t.Setenv("TEMPORAL_CLI", "")
	t.Setenv("PATH", t.TempDir())
	t.Setenv("GOPATH", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	_, err := FindCLI()
	assert.ErrorIs(t, err, ErrNoCLI)
}
