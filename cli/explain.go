package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/cloudbutton/cloudbutton/client"
)

// explainLive explains a live instance; nil for a finished one. An
// instance that ends (or is purged) meanwhile has none either.
func explainLive(ctx context.Context, c client.Client, st *client.Status) (*client.Explanation, error) {
	if st.RuntimeStatus.Terminal() {
		return nil, nil
	}
	x, err := client.Explain(ctx, c, st.InstanceID)
	if err != nil {
		return nil, fmt.Errorf("explaining %q: %w", st.InstanceID, err)
	}
	if x.RuntimeStatus.Terminal() {
		return nil, nil
	}
	return x, nil
}

// printExplanation prints what a live instance waits on, one wait a line,
// a child's waits indented under it.
func printExplanation(w io.Writer, x *client.Explanation) {
	if x == nil {
		return
	}
	fmt.Fprintln(w, "Waiting on:")
	if len(x.Waits) == 0 {
		fmt.Fprintln(w, "  "+printable(x.Summary))
	}
	printWaits(w, x.Waits, 1)
}

func printWaits(w io.Writer, waits []client.Wait, depth int) {
	indent := strings.Repeat("  ", depth)
	for _, wt := range waits {
		line := wt.Summary
		if wt.Child != nil {
			line = client.Wait{Kind: wt.Kind, Name: wt.Name, InstanceID: wt.InstanceID}.String()
		}
		fmt.Fprintf(w, "%s- %s\n", indent, printable(line))
		if wt.Child != nil {
			printWaits(w, wt.Child.Waits, depth+1)
		}
	}
}
