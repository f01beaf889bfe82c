package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// EventName is the external event that carries a Decision.
const EventName = "approval"

// Request asks for an approval.
type Request struct {
	ID        string `json:"id"`
	Requester string `json:"requester"`
	What      string `json:"what"`
	Approver  string `json:"approver"`
	Manager   string `json:"manager"`
	// Timeout is how long the approver has; EscalationTimeout how long
	// the manager has after that.
	Timeout           time.Duration `json:"timeout"`
	EscalationTimeout time.Duration `json:"escalationTimeout"`
}

// Decision is the payload of the approval event, e.g.
// {"approved":true,"by":"alice","comment":"ok"}.
type Decision struct {
	Approved bool   `json:"approved"`
	By       string `json:"by,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

// Outcome is the result of an approval.
type Outcome struct {
	Approved     bool     `json:"approved"`
	DecidedBy    string   `json:"decidedBy"`
	Comment      string   `json:"comment,omitempty"`
	Escalated    bool     `json:"escalated"`
	AutoRejected bool     `json:"autoRejected"`
	Notices      []string `json:"notices"`
}

// Stage is the orchestration's custom status while it waits.
type Stage struct {
	// Stage is "awaiting-approver", "awaiting-manager" or "decided".
	Stage string `json:"stage"`
	// WaitingFor is who must decide; Until when the wait times out.
	WaitingFor string    `json:"waitingFor,omitempty"`
	Until      time.Time `json:"until,omitzero"`
}

// Notice is a message to a person.
type Notice struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

// Notify sends a notice (in a real system an e-mail or a chat message;
// here it returns the line that would be sent).
var Notify = activity.New("approval.notify", func(ctx context.Context, n Notice) (string, error) {
	if n.To == "" {
		return "", activity.NewNonRetryableError("NoRecipient", "notice without a recipient: "+n.Text)
	}
	return "to " + n.To + ": " + n.Text, nil
})

// Approve waits for a human decision, as an external event, with a
// timeout and an escalation: when the approver does not answer in time,
// the manager is asked; when the manager does not answer either, the
// request is rejected automatically. The waits are durable timers: the
// worker may restart in between.
var Approve = orchestration.New("approval.approve", func(ctx orchestration.Context, r Request) (Outcome, error) {
	if r.Timeout <= 0 || r.EscalationTimeout <= 0 {
		return Outcome{}, fmt.Errorf("approval %s: timeouts must be positive (got %s and %s)", r.ID, r.Timeout, r.EscalationTimeout)
	}
	var out Outcome
	notify := func(to, text string) error {
		line, err := orchestration.Call(ctx, Notify, Notice{To: to, Text: text},
			orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 3})).Await(ctx)
		out.Notices = append(out.Notices, line)
		return err
	}
	wait := func(stage, who string, d time.Duration) (Decision, error) {
		_ = orchestration.SetCustomStatus(ctx, Stage{Stage: stage, WaitingFor: who, Until: ctx.Now().Add(d)})
		return orchestration.WaitEvent[Decision](ctx, EventName, d).Await(ctx)
	}

	if err := notify(r.Approver, fmt.Sprintf("please approve %s (%s) for %s within %s", r.ID, r.What, r.Requester, r.Timeout)); err != nil {
		return out, err
	}
	d, err := wait("awaiting-approver", r.Approver, r.Timeout)
	if errors.Is(err, orchestration.ErrTimeout) {
		out.Escalated = true
		if err := notify(r.Manager, fmt.Sprintf("%s did not answer on %s (%s) in %s; please decide within %s", r.Approver, r.ID, r.What, r.Timeout, r.EscalationTimeout)); err != nil {
			return out, err
		}
		d, err = wait("awaiting-manager", r.Manager, r.EscalationTimeout)
	}
	switch {
	case errors.Is(err, orchestration.ErrTimeout):
		out.AutoRejected, out.DecidedBy = true, "timeout"
	case err != nil:
		return out, err // terminated, for instance
	default:
		out.Approved, out.DecidedBy, out.Comment = d.Approved, d.By, d.Comment
	}
	_ = orchestration.SetCustomStatus(ctx, Stage{Stage: "decided"})
	verdict := "rejected"
	if out.Approved {
		verdict = "approved"
	}
	if err := notify(r.Requester, fmt.Sprintf("%s was %s by %s", r.ID, verdict, out.DecidedBy)); err != nil {
		return out, err
	}
	return out, nil
})
