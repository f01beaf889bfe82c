package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// A user's program: an activity and an orchestrator that calls it, and a
// later version of the orchestrator that calls it differently.
var (
	shout    = activity.New("shout", func(ctx context.Context, s string) (string, error) { return strings.ToUpper(s) + "!", nil })
	greeting = orchestration.New("greeting", func(ctx orchestration.Context, name string) (string, error) {
		return orchestration.Call(ctx, shout, "hello, "+name).Await(ctx)
	})
	greetingV2 = orchestration.New("greeting", func(ctx orchestration.Context, name string) (string, error) {
		if _, err := orchestration.Call(ctx, greet, name).Await(ctx); err != nil {
			return "", err
		}
		return orchestration.Call(ctx, shout, "hello, "+name).Await(ctx)
	})
	userRegs = Registrations{
		Orchestrators: []orchestration.Definition{greeting},
		Activities:    []activity.Definition{shout},
	}
)

// TestRunHostsTheUsersRegistrations runs a worker of the user's
// registrations on a SQLite file, completes one of the user's
// orchestrations through it, and replays its history against the user's
// code: the real engine end to end, in one process.
func TestRunHostsTheUsersRegistrations(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	startWorker(t, userRegs, db)

	code, out, errOut := cliWith(t, userRegs, "--db", db, "start", "greeting", `"ada"`, "--id", "g1", "--wait", "--timeout", "1m")
	require.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, "g1\n\"HELLO, ADA!\"\n", out)

	code, _, errOut = cliWith(t, userRegs, "--db", db, "start", "bench.fanout", "3")
	assert.Equal(t, ExitError, code, "the worker hosts the user's orchestrators, not the built-ins")
	assert.Contains(t, errOut, `"bench.fanout" (registered: greeting)`)

	code, out, errOut = cliWith(t, Registrations{}, "--db", db, "history", "g1", "--json")
	require.Equal(t, ExitOK, code, "history needs no registrations: %s", errOut)
	file := filepath.Join(t.TempDir(), "g1.json")
	require.NoError(t, os.WriteFile(file, []byte(out), 0o644))

	tests := []struct {
		name string
		regs Registrations
		code int
		want string
	}{
		{"the same code replays", userRegs, ExitOK, "replays against the current code"},
		{"changed code does not", Registrations{Orchestrators: []orchestration.Definition{greetingV2}}, ExitError,
			`at step 1: history recorded ActivityScheduled "shout", but the code did ActivityScheduled "greet"`},
		{"another program's orchestrators", benchRegs, ExitError,
			`orchestrator "greeting" is not registered in this program (registered: bench.fanout, bench.sequence)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cliWith(t, tt.regs, "replay", file)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, out+errOut, tt.want)
		})
	}
}

// TestNothingRegistered: the commands that run the user's code refuse,
// with the usage exit code, to run without it, and say what is missing.
func TestNothingRegistered(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"worker", []string{"--db", db, "worker"}, "nothing to host: this program registers no orchestrators and no activities"},
		{"replay", []string{"replay", filepath.Join(t.TempDir(), "h.json")}, "nothing to replay against: this program registers no orchestrators"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cliWith(t, Registrations{}, tt.args...)
			assert.Equal(t, ExitUsage, code, errOut)
			assert.Contains(t, errOut, tt.want)
			assert.Contains(t, errOut, "cli.Main(cli.Registrations{", "the error says how to register")
		})
	}
	_, err := os.Stat(db)
	assert.True(t, os.IsNotExist(err), "a worker that refuses creates no database")
}

// TestActivityOnlyWorker: a worker may host activities alone (another
// worker hosts the orchestrators, on Temporal say).
func TestActivityOnlyWorker(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	startWorker(t, Registrations{Activities: []activity.Definition{shout}}, db)
}
