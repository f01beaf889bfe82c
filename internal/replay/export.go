package replay

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/cloudbutton/cloudbutton/client"
)

// HistoryFormat identifies exported histories.
const HistoryFormat = "cloudbutton.history/v1"

// History is the exported form of one run's history: what the client's
// export writes and orchestrationtest replays.
type History struct {
	Format     string  `json:"format"`
	InstanceID string  `json:"instanceId"`
	Name       string  `json:"name"`
	Events     []Event `json:"events"`
	// Usage is the instance's billed usage (client.Status.Usage) when
	// not zero: information only, replay ignores it.
	Usage *client.Usage `json:"usage,omitempty"`
}

// WriteHistory writes h as indented JSON.
func WriteHistory(w io.Writer, h History) error {
	h.Format = HistoryFormat
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(h)
}

// ReadHistory reads an exported history, checking its format.
func ReadHistory(r io.Reader) (History, error) {
	var h History
	if err := json.NewDecoder(r).Decode(&h); err != nil {
		return h, fmt.Errorf("replay: reading history: %w", err)
	}
	if h.Format != HistoryFormat {
		return h, fmt.Errorf("replay: history format %q is not %q (a Temporal history? replay it with engine/temporal)", h.Format, HistoryFormat)
	}
	if len(h.Events) == 0 || h.Events[0].Type != OrchestrationStarted {
		return h, fmt.Errorf("replay: history of %q does not begin with %s", h.InstanceID, OrchestrationStarted)
	}
	return h, nil
}
