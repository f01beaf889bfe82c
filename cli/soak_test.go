package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/soak"
)

// TestCLISoakChild is a worker or loader process of TestCLISoak (the
// test binary stands in for the CLI's hidden soak child command).
func TestCLISoakChild(t *testing.T) {
	if !soak.IsChild() {
		t.Skip("run by TestCLISoak")
	}
	if err := soak.RunChild(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "soak child:", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// TestCLISoak runs a tiny soak through the command (3 kills, small
// workloads, one generation of continue-as-new), keeps its directory and
// verifies it again with --verify: the table is printed, and the exit
// code says what the table says, both times.
func TestCLISoak(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker and loader processes")
	}
	saved := soakCommand
	soakCommand = func() ([]string, error) {
		return []string{os.Args[0], "-test.run=^TestCLISoakChild$", "-test.v=false"}, nil
	}
	t.Cleanup(func() { soakCommand = saved })
	dir := filepath.Join(t.TempDir(), "soak")
	code, out, errOut := cli(t, "soak", "--kills", "3", "--small", "--generations", "1", "--seed", "5", "--dir", dir, "--keep", "--idle", "15s")
	t.Log("\n" + out)
	for _, row := range []string{"seed                              5", "kills                             3 (",
		"restart to ready", "events raised / received", "activities scheduled / completed", "key collisions", "lost", "doubled", "stuck", "soak.waiter"} {
		assert.Contains(t, out, row)
	}
	assert.Contains(t, errOut, "soak: 3/3 kills")
	passed := strings.Contains(out, "PASS: ")
	if passed {
		assert.Equal(t, ExitOK, code)
	} else {
		assert.Equal(t, ExitError, code, "a failed soak exits 1")
		assert.Contains(t, errOut, "Error: soak (seed 5):")
	}
	assert.FileExists(t, filepath.Join(dir, "soak.db"), "--keep keeps the directory")

	vcode, vout, _ := cli(t, "soak", "--verify", dir)
	assert.Equal(t, code, vcode, "--verify gives the same verdict: %s", vout)
	assert.Contains(t, vout, "soak.waiter")
	assert.Equal(t, passed, strings.Contains(vout, "PASS: "))
}

func TestCLISoakUsage(t *testing.T) {
	for _, args := range [][]string{
		{"soak", "--kills", "-1"},
		{"soak", "--fanout", "0"},
		{"soak", "--idle", "0s"},
		{"soak", "--loaders", "0"},
		{"soak", "extra"},
		{"soak", "child"}, // only soak starts it
	} {
		code, _, errOut := cli(t, args...)
		assert.Equal(t, ExitUsage, code, "%v: %s", args, errOut)
	}
	_, _, errOut := cli(t, "soak", "--fanout", "0")
	assert.Contains(t, errOut, "fan-out size 0 is not positive")
	code, _, errOut := cli(t, "soak", "--dir", t.TempDir()+"/x", "--verify", t.TempDir())
	assert.Equal(t, ExitError, code, "verifying a directory that holds no soak: %s", errOut)
	require.Contains(t, errOut, "soak.json")
}
