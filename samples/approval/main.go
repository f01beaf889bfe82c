// Command approval is the human-interaction sample: an orchestration waits
// for an approval event with a timeout, escalates to a manager when it
// times out, and rejects automatically when the manager does not answer
// either.
//
//	go run ./samples/approval start   # prints the instance id and the CLI command that approves it
//	go run ./samples/approval demo    # raises the event itself, after the escalation
//
// With start, the worker runs until the orchestration completes: raise the
// event from a second terminal with the CLI, for example
//
//	go run ./cmd/cloudbutton --db <path> raise <id> approval '{"approved":true,"by":"alice"}'
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/samples/internal/samplekit"
)

func main() { samplekit.Main("approval", run) }

const usage = `usage: approval start|demo [flags]

  start  start an approval and wait for the decision, raised from the CLI
  demo   start an approval and raise the manager's decision itself after the
         approver's timeout, unattended
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "start" && args[0] != "demo") {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return errors.New("missing command: start or demo")
		}
		return fmt.Errorf("unknown command %q: want start or demo", args[0])
	}
	mode := args[0]
	fs := flag.NewFlagSet("approval "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := samplekit.AddEngineFlags(fs, "approval")
	defTimeout, defEscalation := 5*time.Minute, 5*time.Minute
	if mode == "demo" {
		defTimeout, defEscalation = time.Second, 30*time.Second
	}
	req := Request{Requester: "carol", What: "a new laptop"}
	fs.DurationVar(&req.Timeout, "timeout", defTimeout, "how long the approver has")
	fs.DurationVar(&req.EscalationTimeout, "escalation-timeout", defEscalation, "how long the manager has after that")
	fs.StringVar(&req.Approver, "approver", "alice", "who approves first")
	fs.StringVar(&req.Manager, "manager", "bob", "who is asked when the approver does not answer")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if req.Timeout <= 0 || req.EscalationTimeout <= 0 {
		return fmt.Errorf("--timeout %s and --escalation-timeout %s must be positive", req.Timeout, req.EscalationTimeout)
	}
	rt, err := samplekit.Start(ctx, samplekit.Options{
		EngineFlags: *engine, Orchestrators: []orchestration.Definition{Approve}, Activities: []activity.Definition{Notify},
		Logger: samplekit.QuietLogger(stderr), PollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		return err
	}
	defer rt.Close()

	id := samplekit.InstanceID("approval")
	req.ID = id
	if _, err := client.Start(ctx, rt.Client, Approve, req, client.WithInstanceID(id)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "started approval %s: %s asks for %s\n", id, req.Requester, req.What)
	if mode == "start" {
		where := "--engine temporal --address " + engine.Address
		if rt.Engine != nil {
			dbPath, _ := filepath.Abs(rt.Engine.Path())
			where = "--db " + dbPath
		}
		fmt.Fprintf(stdout, "approve it from another terminal (the worker runs here until the orchestration completes):\n"+
			"  go run ./cmd/cloudbutton %s raise %s %s '{\"approved\":true,\"by\":\"%s\"}'\n"+
			"or reject it with '{\"approved\":false,\"by\":\"%s\",\"comment\":\"too expensive\"}'\n",
			where, id, EventName, req.Approver, req.Approver)
	}
	onStage := func(s Stage) error {
		fmt.Fprintf(stdout, "%s: waiting for %s until %s\n", s.Stage, s.WaitingFor, s.Until.Local().Format(time.TimeOnly))
		if mode == "demo" && s.Stage == "awaiting-manager" {
			d := Decision{Approved: true, By: req.Manager, Comment: "approved on escalation"}
			fmt.Fprintf(stdout, "demo: %s decides: %+v\n", req.Manager, d)
			return client.RaiseEvent(ctx, rt.Client, id, EventName, d)
		}
		return nil
	}
	if err := watch(ctx, rt.Client, id, onStage); err != nil {
		return err
	}
	out, err := client.Result(ctx, rt.Client, Approve, id)
	if err != nil {
		rt.PrintHistoryHint(stdout, id)
		return err
	}
	for _, n := range out.Notices {
		fmt.Fprintf(stdout, "notice %s\n", n)
	}
	verdict := "REJECTED"
	if out.Approved {
		verdict = "APPROVED"
	}
	fmt.Fprintf(stdout, "%s by %s (escalated: %v, auto-rejected: %v)", verdict, out.DecidedBy, out.Escalated, out.AutoRejected)
	if out.Comment != "" {
		fmt.Fprintf(stdout, ": %q", out.Comment)
	}
	fmt.Fprintln(stdout)
	rt.PrintHistoryHint(stdout, id)
	return nil
}

// watch polls the instance until it ends, calling onStage on each new
// waiting stage of its custom status.
func watch(ctx context.Context, eng client.Client, id string, onStage func(Stage) error) error {
	var last []byte
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := eng.Status(ctx, id)
		if err != nil {
			return err
		}
		if st.RuntimeStatus.Terminal() {
			return nil
		}
		if len(st.CustomStatus) > 0 && !bytes.Equal(st.CustomStatus, last) {
			last = st.CustomStatus
			s, err := codec.Decode[Stage](eng.Codec(), "custom status", st.CustomStatus)
			if err != nil {
				return err
			}
			if strings.HasPrefix(s.Stage, "awaiting-") {
				if err := onStage(s); err != nil {
					return err
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for approval %s: %w (the instance stays; its timers keep running when a worker runs on its engine)", id, ctx.Err())
		case <-tick.C:
		}
	}
}
