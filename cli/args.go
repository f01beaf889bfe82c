package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
)

// MaxInputFile bounds a JSON input or event payload read from a file or
// stdin (64 MiB); the engine's own payload limit (2 MiB by default) is
// checked after, with the size and the limit in its error.
const MaxInputFile = 64 << 20

// jsonInput returns the JSON of an input or event payload: the argument
// named what (inline JSON, @FILE, or - for stdin) or the file of the flag
// fileFlag. Without either it is null. Every refusal is a usage error
// that names the argument, file or stdin.
func jsonInput(cmd *cobra.Command, what string, args []string, i int, fileFlag string) ([]byte, error) {
	file, _ := cmd.Flags().GetString(fileFlag)
	hasArg := i < len(args)
	switch {
	case hasArg && cmd.Flags().Changed(fileFlag):
		return nil, withCode(ExitUsage, fmt.Errorf("give %s or --%s, not both", what, fileFlag))
	case cmd.Flags().Changed(fileFlag):
		return readJSON(fmt.Sprintf("--%s %s", fileFlag, file), func() (io.ReadCloser, error) { return os.Open(file) })
	case !hasArg:
		return jsonArg(what, "")
	case args[i] == "-":
		return readJSON(what+" from stdin", func() (io.ReadCloser, error) { return io.NopCloser(cmd.InOrStdin()), nil })
	case strings.HasPrefix(args[i], "@"):
		path := args[i][1:]
		return readJSON(what+" "+args[i], func() (io.ReadCloser, error) { return os.Open(path) })
	}
	return jsonArg(what, args[i])
}

// readJSON reads at most MaxInputFile bytes of JSON from the source
// described by from.
func readJSON(from string, open func() (io.ReadCloser, error)) ([]byte, error) {
	r, err := open()
	if err != nil {
		return nil, withCode(ExitUsage, fmt.Errorf("%s: %w", from, err))
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, MaxInputFile+1))
	switch {
	case err != nil:
		return nil, withCode(ExitUsage, fmt.Errorf("%s: %w", from, err))
	case len(data) > MaxInputFile:
		return nil, withCode(ExitUsage, fmt.Errorf("%s: over %d MiB, the most the CLI reads", from, MaxInputFile>>20))
	case len(strings.TrimSpace(string(data))) == 0:
		return nil, withCode(ExitUsage, fmt.Errorf("%s: empty, not JSON (give null for no value)", from))
	}
	if err := syntaxError(data); err != nil {
		return nil, withCode(ExitUsage, fmt.Errorf("%s: not valid JSON: %w", from, err))
	}
	return data, nil
}

// syntaxError says where data stops being JSON, or nil.
func syntaxError(data []byte) error {
	if json.Valid(data) {
		return nil
	}
	var v json.RawMessage
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w (at byte %d)", err, se.Offset)
	}
	if err == nil {
		err = errors.New("invalid JSON")
	}
	return err
}

// nonNegative is a duration flag that refuses negative values, which
// would otherwise mean "no limit" by accident (a usage error naming the
// flag and the value).
type nonNegative struct{ d *time.Duration }

func (v nonNegative) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if d < 0 {
		return errors.New("a negative duration is not a timeout (0 or no flag: wait without one)")
	}
	*v.d = d
	return nil
}

func (v nonNegative) Type() string { return "duration" }

// String is "0" for no timeout, which the help leaves out as a default.
func (v nonNegative) String() string {
	if v.d == nil || *v.d == 0 {
		return "0"
	}
	return v.d.String()
}

// printable returns s as it is when every character is printable, and
// quoted with Go escapes otherwise: ids and names may hold control
// characters, which a terminal would act on and which break table
// columns. JSON output keeps them exact.
func printable(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// unknownCommand refuses arguments given to the root command: a usage
// error naming the command, with cobra's suggestions.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return withCode(ExitUsage, errors.New(msg+"\n\nRun '"+cmd.CommandPath()+" --help' for usage."))
}
