package orchestrationtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// Rewind rewinds the root instance of the Env's Run, which ended Failed
// or Terminated (see client.Client.Rewind), runs it to its end again on
// virtual time and returns its result as Run does. The steps that
// succeeded keep their results and are not called again; the failed ones
// run again, against the activities as they behave now (a mock whose bug
// a flag fixed). A Completed instance is client.ErrNotRewindable. After
// the run, every history is replayed from scratch again.
//
// It rewinds once the engine has nothing left to do but wait for time:
// the activities that the failed run left running have finished, and
// their results are kept for the rewound run (they are not run again),
// as they are in production when they finish before the rewind.
func Rewind[In, Out any](e *Env, o *orchestration.Orchestrator[In, Out], reason string) (Out, error) {
	var zero Out
	if e.eng == nil || e.root == "" {
		return zero, errors.New("orchestrationtest: Rewind needs a Run first")
	}
	ctx := context.Background()
	for !onlyTimeIsLeft(e.eng, e.clock) {
		select {
		case <-e.eng.Changed():
		case <-time.After(time.Millisecond):
		}
	}
	if err := e.eng.Rewind(ctx, e.root, reason); err != nil {
		return zero, err
	}
	st, err := e.drive(ctx)
	if err != nil {
		return zero, err
	}
	e.replayCheck()
	if st.RuntimeStatus == client.StatusCompleted {
		return codec.Decode[Out](e.opts.codec, fmt.Sprintf("output of orchestration %q", o.Name()), st.Output)
	}
	return zero, failureError(st)
}
