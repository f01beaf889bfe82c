package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// sameJSON reports whether a and b are the same JSON value (numbers
// compared as written).
func sameJSON(a, b []byte) bool {
	decode := func(data []byte) (any, bool) {
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var v any
		return v, d.Decode(&v) == nil
	}
	va, oka := decode(a)
	vb, okb := decode(b)
	return oka && okb && reflect.DeepEqual(va, vb)
}

// FuzzCLIJSONArguments drives `start NAME INPUT --wait` and `raise ID
// EVENT PAYLOAD` through cli.Run, with the JSON given inline, as @FILE or
// on stdin, against one SQLite file and one worker per fuzz process.
// Invalid JSON is a usage error (2) that names the argument and starts
// nothing; valid JSON reaches the orchestration as the same JSON value,
// and no input stops the worker: the next start still completes.
func FuzzCLIJSONArguments(f *testing.F) {
	dir := f.TempDir()
	db := filepath.Join(dir, "fuzz.db")
	startWorker(f, echoRegs, db)
	run := func(t *testing.T, stdin string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := RunWithStdin(context.Background(), echoRegs, append([]string{"--db", db}, args...), strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	for _, s := range []string{
		`{"item":"book","qty":2}`, `"ada"`, `42`, `-1.5e300`, `1e400`, `true`, `null`, `[]`, `{}`, `""`,
		`"<html> & \u2028"`, "\"\u2028\"", `"\u0000"`, `"é"`, ` {"a" : [1, 2] } `,
		`{"$b64":"x"}`, `{"$b64":""}`, `{"$cloudbutton":"base64","data":"AAAA"}`,
		`{oops`, ``, `-`, `@`, "\xff", `"` + strings.Repeat("x", 1000) + `"`,
	} {
		f.Add(s, "e", uint8(len(s))) // inline, file or stdin, by length
	}
	f.Add(`{"item":"book"}`, "e", uint8(0))
	f.Add(`{"item":"book"}`, "e", uint8(1))
	f.Add(`{"item":"book"}`, "other", uint8(2))
	f.Add(`1`, "", uint8(0))
	f.Add(`1`, "bell\a", uint8(0))
	f.Add(`1`, "\xff", uint8(0))
	var n int
	f.Fuzz(func(t *testing.T, input, event string, mode uint8) {
		if len(input) > 64<<10 || len(event) > 1<<10 {
			t.Skip("bounded input")
		}
		n++
		arg, stdin, what := input, "", "INPUT-JSON"
		switch mode % 3 {
		case 1:
			file := filepath.Join(dir, fmt.Sprintf("in-%d.json", n))
			require.NoError(t, os.WriteFile(file, []byte(input), 0o644))
			arg, what = "@"+file, file
		case 2:
			arg, stdin, what = "-", input, "stdin"
		}
		valid := json.Valid([]byte(input))
		if mode%3 == 0 && input == "" {
			valid = true // no input: null
		}
		if mode%3 == 0 && (input == "-" || strings.HasPrefix(input, "@")) {
			t.Skip("a file or stdin argument, not inline JSON")
		}

		id := fmt.Sprintf("start-%d", n)
		code, out, errOut := run(t, stdin, "start", "echo", "--id="+id, "--wait", "--timeout=30s", "--", arg)
		if !valid {
			require.Equal(t, ExitUsage, code, "%s", errOut)
			require.Contains(t, errOut, "JSON")
			require.Contains(t, errOut, what, "the error names the argument")
			code, _, _ = run(t, "", "status", id)
			require.Equal(t, ExitNotFound, code, "a refused input starts nothing")
			return
		}
		require.Equal(t, ExitOK, code, "input %q: %s", input, errOut)
		got, ok := strings.CutPrefix(out, id+"\n")
		require.True(t, ok, "%q", out)
		want := input
		if strings.TrimSpace(want) == "" {
			want = "null"
		}
		require.True(t, sameJSON([]byte(want), []byte(got)), "input %q came back as %q", input, got)

		id = fmt.Sprintf("raise-%d", n)
		code, _, errOut = run(t, "", "start", "await", "--id="+id)
		require.Equal(t, ExitOK, code, errOut)
		code, _, errOut = run(t, stdin, "raise", "--", id, event, arg)
		if event == "" || !utf8.ValidString(event) {
			require.Equal(t, ExitError, code, errOut)
			require.Contains(t, errOut, "event name")
			code, _, errOut = run(t, stdin, "raise", "--", id, "e", arg)
		}
		require.Equal(t, ExitOK, code, "payload %q: %s", input, errOut)
		if event != "e" && event != "" && utf8.ValidString(event) {
			code, _, errOut = run(t, "", "raise", "--", id, "e", want)
			require.Equal(t, ExitOK, code, errOut)
		}
		code, out, errOut = run(t, "", "wait", id, "--no-progress", "--timeout=30s")
		require.Equal(t, ExitOK, code, "the worker still runs: %s", errOut)
		require.True(t, sameJSON([]byte(want), []byte(out)), "payload %q came back as %q", input, out)
	})
}
