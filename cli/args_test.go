package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/orchestration"
)

// cliIn runs the CLI with stdin.
func cliIn(t *testing.T, regs Registrations, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := RunWithStdin(context.Background(), regs, args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// Orchestrators that hand back their input, or the payload of the event
// they wait for: what a JSON argument was, end to end.
var (
	echoInput = orchestration.New("echo", func(ctx orchestration.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil })
	echoEvent = orchestration.New("await", func(ctx orchestration.Context, _ json.RawMessage) (json.RawMessage, error) {
		return orchestration.WaitEvent[json.RawMessage](ctx, "e", 0).Await(ctx)
	})
	echoRegs   = Registrations{Orchestrators: []orchestration.Definition{echoInput, echoEvent}}
	bigJSON    = `{"text":"` + strings.Repeat("x", 200<<10) + `"}` // over the 128 KiB an argument may hold
	smallJSON  = `{"approved":true}`
	notJSON    = `{"approved":`
	timeoutArg = []string{"--timeout", "1m"}
)

// TestJSONArgumentsFromFilesAndStdin: an input or an event payload is
// given inline, as @FILE, as - (stdin), or with --input-file /
// --payload-file; the orchestration sees it exactly. Bad ones are usage
// errors that name the file.
func TestJSONArgumentsFromFilesAndStdin(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "args.db")
	startWorker(t, echoRegs, db)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	big, small, bad, empty := write("big.json", bigJSON), write("small.json", smallJSON+"\n"), write("bad.json", notJSON), write("empty.json", "")
	missing := filepath.Join(dir, "missing.json")

	tests := []struct {
		name    string
		args    []string
		stdin   string
		code    int
		want    string // the orchestration's output
		wantErr []string
	}{
		{"inline input", []string{"start", "echo", smallJSON}, "", ExitOK, smallJSON, nil},
		{"--input-file over 128 KiB", []string{"start", "echo", "--input-file", big}, "", ExitOK, bigJSON, nil},
		{"@file input", []string{"start", "echo", "@" + small}, "", ExitOK, smallJSON, nil},
		{"input from stdin", []string{"start", "echo", "-"}, bigJSON, ExitOK, bigJSON, nil},
		{"no input is null", []string{"start", "echo"}, "", ExitOK, "null", nil},
		{"input file missing", []string{"start", "echo", "--input-file", missing}, "", ExitUsage, "", []string{"--input-file", "missing.json"}},
		{"@file missing", []string{"start", "echo", "@" + missing}, "", ExitUsage, "", []string{"missing.json"}},
		{"input file not JSON", []string{"start", "echo", "@" + bad}, "", ExitUsage, "", []string{"bad.json", "not valid JSON"}},
		{"input file empty", []string{"start", "echo", "--input-file", empty}, "", ExitUsage, "", []string{"empty.json", "empty"}},
		{"stdin not JSON", []string{"start", "echo", "-"}, notJSON, ExitUsage, "", []string{"stdin", "not valid JSON"}},
		{"input twice", []string{"start", "echo", smallJSON, "--input-file", small}, "", ExitUsage, "", []string{"INPUT-JSON", "--input-file", "not both"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "in-" + string(rune('a'+i))
			args := append([]string{"--db", db}, tt.args...)
			args = append(append(args, "--id", id, "--wait"), timeoutArg...)
			code, out, errOut := cliIn(t, echoRegs, tt.stdin, args...)
			require.Equal(t, tt.code, code, errOut)
			for _, w := range tt.wantErr {
				assert.Contains(t, errOut, w)
			}
			if tt.code == ExitOK {
				assert.Equal(t, id+"\n"+tt.want+"\n", out)
			} else {
				code, _, _ := cli(t, "--db", db, "status", id)
				assert.Equal(t, ExitNotFound, code, "a refused input starts nothing")
			}
		})
	}

	events := []struct {
		name    string
		args    []string
		stdin   string
		code    int
		want    string
		wantErr []string
	}{
		{"inline payload", []string{smallJSON}, "", ExitOK, smallJSON, nil},
		{"--payload-file over 128 KiB", []string{"--payload-file", big}, "", ExitOK, bigJSON, nil},
		{"@file payload", []string{"@" + big}, "", ExitOK, bigJSON, nil},
		{"payload from stdin", []string{"-"}, smallJSON, ExitOK, smallJSON, nil},
		{"payload file missing", []string{"--payload-file", missing}, "", ExitUsage, "", []string{"--payload-file", "missing.json"}},
		{"payload file not JSON", []string{"@" + bad}, "", ExitUsage, "", []string{"bad.json", "not valid JSON"}},
		{"payload twice", []string{"-", "--payload-file", small}, smallJSON, ExitUsage, "", []string{"PAYLOAD-JSON", "--payload-file", "not both"}},
	}
	for i, tt := range events {
		t.Run("raise/"+tt.name, func(t *testing.T) {
			id := "ev-" + string(rune('a'+i))
			code, _, errOut := cli(t, "--db", db, "start", "await", "--id", id)
			require.Equal(t, ExitOK, code, errOut)
			code, _, errOut = cliIn(t, echoRegs, tt.stdin, append([]string{"--db", db, "raise", id, "e"}, tt.args...)...)
			require.Equal(t, tt.code, code, errOut)
			for _, w := range tt.wantErr {
				assert.Contains(t, errOut, w)
			}
			if tt.code != ExitOK {
				_, _, _ = cli(t, "--db", db, "terminate", id)
				return
			}
			code, out, errOut := cli(t, append([]string{"--db", db, "wait", id, "--no-progress"}, timeoutArg...)...)
			require.Equal(t, ExitOK, code, errOut)
			assert.Equal(t, tt.want+"\n", out)
		})
	}
}

// TestUsageErrors: a negative --timeout, an unknown command: exit code 2,
// with a message that names the flag and value, or the command.
func TestUsageErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "usage.db")
	code, _, errOut := cli(t, "--db", db, "start", "bench.fanout", "1", "--any-name", "--id", "exists")
	require.Equal(t, ExitOK, code, errOut)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"negative start --timeout", []string{"start", "bench.fanout", "1", "--id", "neg", "--wait", "--timeout", "-1s"}, []string{"--timeout", `"-1s"`, "negative"}},
		{"negative wait --timeout", []string{"wait", "exists", "--timeout=-5m"}, []string{"--timeout", `"-5m"`, "negative"}},
		{"negative number as input", []string{"start", "bench.fanout", "-5"}, []string{"unknown shorthand flag", "put -- before the arguments"}},
		{"unknown command", []string{"frobnicate"}, []string{`unknown command "frobnicate"`}},
		{"unknown command with a suggestion", []string{"statsu", "exists"}, []string{`unknown command "statsu"`, "status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var code int
			var errOut string
			go func() {
				defer close(done)
				code, _, errOut = cli(t, append([]string{"--db", db}, tt.args...)...)
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the command does not return")
			}
			assert.Equal(t, ExitUsage, code, errOut)
			for _, w := range tt.want {
				assert.Contains(t, errOut, w)
			}
		})
	}
	code, _, _ = cli(t, "--db", db, "status", "neg")
	assert.Equal(t, ExitNotFound, code, "a refused start starts nothing")
	code, out, _ := cli(t)
	assert.Equal(t, ExitOK, code, "no command prints the help")
	assert.Contains(t, out, "Available Commands")
}

// TestListEscapesControlCharacters: ids and names are printed as they are
// when printable, quoted with Go escapes otherwise (a terminal would act
// on them); --json keeps them exact.
func TestListEscapesControlCharacters(t *testing.T) {
	db := filepath.Join(t.TempDir(), "list.db")
	ids := []string{"plain-id", "bell\a", "esc\x1b[31mred", "tab\tid", "nl\nid", "del\x7f", "tag\U000E0001", "é-ok"}
	for _, id := range ids {
		code, _, errOut := cli(t, "--db", db, "start", "bench.fanout", "1", "--any-name", "--id", id)
		require.Equal(t, ExitOK, code, errOut)
	}
	code, out, errOut := cli(t, "--db", db, "list")
	require.Equal(t, ExitOK, code, errOut)
	for _, r := range out {
		if r != '\n' {
			assert.True(t, r >= ' ' && r != 0x7f, "no control character in the table: %q", out)
		}
	}
	for _, want := range []string{"plain-id", `"bell\a"`, `"esc\x1b[31mred"`, `"tab\tid"`, `"nl\nid"`, `"del\x7f"`, `"tag\U000e0001"`, "é-ok"} {
		assert.Contains(t, out, want)
	}
	assert.Equal(t, len(ids)+1, strings.Count(out, "\n"), "one line per instance: %s", out)

	code, out, errOut = cli(t, "--db", db, "list", "--json")
	require.Equal(t, ExitOK, code, errOut)
	var sts []struct {
		InstanceID string `json:"instanceId"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &sts))
	var got []string
	for _, st := range sts {
		got = append(got, st.InstanceID)
	}
	assert.ElementsMatch(t, ids, got, "JSON output stays exact")

	code, out, errOut = cli(t, "--db", db, "status", "esc\x1b[31mred")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, `"esc\x1b[31mred"`)
	assert.NotContains(t, out, "\x1b")
}
