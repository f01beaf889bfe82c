package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// newQueryCmd and newUpdateCmd call a running instance's handlers. Their
// argument is read like raise's payload; the result is printed as JSON.
func newQueryCmd(cfg *engineConfig) *cobra.Command {
	return newHandlerCmd(cfg, "query", "Query a running instance (read-only; nothing is recorded)",
		`Call the query handler NAME of a running instance with a JSON argument
(inline, @FILE, --arg-file FILE, or - for stdin; none is null) and print
its JSON result. On the embedded engine the worker's process answers:
run the command there (a client of another process gets an error saying
so).`,
		`  cloudbutton query order-1 progress
  cloudbutton query order-1 item '{"sku":"A-1"}'`,
		func(ctx context.Context, e engine, id, name string, arg []byte) ([]byte, error) {
			return e.QueryRaw(ctx, id, name, arg)
		})
}

func newUpdateCmd(cfg *engineConfig) *cobra.Command {
	return newHandlerCmd(cfg, "update", "Send an update to a running instance and print its result",
		`Send the update NAME with a JSON argument (inline, @FILE, --arg-file FILE,
or - for stdin; none is null) to a running instance, wait for its
handler, and print its JSON result. A validator's refusal records
nothing and is an error with the validator's message. On the embedded
engine the worker's process answers (see query).`,
		`  cloudbutton update order-1 add-item '{"sku":"A-1","qty":2}'`,
		func(ctx context.Context, e engine, id, name string, arg []byte) ([]byte, error) {
			return e.UpdateRaw(ctx, id, name, arg)
		})
}

func newHandlerCmd(cfg *engineConfig, what, short, long, example string,
	call func(ctx context.Context, e engine, id, name string, arg []byte) ([]byte, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:     what + " ID NAME [ARG-JSON | @FILE | -]",
		Short:   short,
		Long:    long,
		Example: example,
		Args:    rangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			arg, err := jsonInput(cmd, "ARG-JSON", args, 2, "arg-file")
			if err != nil {
				return err
			}
			return withEngine(cmd, cfg, false, func(ctx context.Context, e engine) error {
				out, err := call(ctx, e, args[0], args[1], arg)
				if err != nil {
					return err
				}
				if len(out) == 0 {
					out = []byte("null")
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", out)
				return err
			})
		},
	}
	cmd.Flags().String("arg-file", "", "read the argument JSON from this file")
	return cmd
}
