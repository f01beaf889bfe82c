package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var req = Request{ID: "r1", Requester: "carol", What: "a laptop", Approver: "alice", Manager: "bob",
	Timeout: time.Hour, EscalationTimeout: 2 * time.Hour}

func newEnv(t *testing.T) *orchestrationtest.Env {
	env := orchestrationtest.New(t)
	env.RegisterActivities(Notify)
	return env
}

func TestApprove(t *testing.T) {
	tests := []struct {
		name    string
		at      time.Duration // virtual time of the event; 0: none
		event   Decision
		want    Outcome
		notices int
	}{
		{"approved in time", 10 * time.Minute, Decision{Approved: true, By: "alice"},
			Outcome{Approved: true, DecidedBy: "alice"}, 2},
		{"rejected in time", 59 * time.Minute, Decision{Approved: false, By: "alice", Comment: "no budget"},
			Outcome{DecidedBy: "alice", Comment: "no budget"}, 2},
		{"escalated, then approved", 90 * time.Minute, Decision{Approved: true, By: "bob"},
			Outcome{Approved: true, DecidedBy: "bob", Escalated: true}, 3},
		{"escalated, then auto-rejected", 0, Decision{},
			Outcome{DecidedBy: "timeout", Escalated: true, AutoRejected: true}, 3},
		{"too late even for the manager", 4 * time.Hour, Decision{Approved: true, By: "bob"},
			Outcome{DecidedBy: "timeout", Escalated: true, AutoRejected: true}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			if tt.at > 0 {
				orchestrationtest.RaiseEventAfter(env, tt.at, EventName, tt.event)
			}
			out, err := orchestrationtest.Run(env, Approve, req)
			require.NoError(t, err)
			assert.Len(t, out.Notices, tt.notices)
			out.Notices = nil
			assert.Equal(t, tt.want, out)
			st, err := orchestrationtest.CustomStatus[Stage](env)
			require.NoError(t, err)
			assert.Equal(t, "decided", st.Stage)
		})
	}
}

// TestApproveEscalationNotices: the manager is notified only after the
// approver's timeout, and the requester always hears the verdict.
func TestApproveEscalationNotices(t *testing.T) {
	env := newEnv(t)
	calls := orchestrationtest.MockActivity(env, Notify, func(ctx context.Context, n Notice) (string, error) {
		return n.To, nil
	})
	start := env.Now()
	out, err := orchestrationtest.Run(env, Approve, req)
	require.NoError(t, err)
	assert.True(t, out.AutoRejected)
	var to []string
	for _, n := range calls.Inputs() {
		to = append(to, n.To)
	}
	assert.Equal(t, []string{"alice", "bob", "carol"}, to)
	assert.Contains(t, calls.Inputs()[2].Text, "rejected by timeout")
	assert.Equal(t, 3*time.Hour, env.Now().Sub(start), "both timeouts ran out, in virtual time")
}

func TestApproveTerminated(t *testing.T) {
	env := newEnv(t)
	env.TerminateAfter(30*time.Minute, "request withdrawn")
	_, err := orchestrationtest.Run(env, Approve, req)
	require.ErrorIs(t, err, orchestration.ErrCanceled)
}

func TestApproveBadRequest(t *testing.T) {
	r := req
	r.Timeout = 0
	_, err := orchestrationtest.Run(newEnv(t), Approve, r)
	require.ErrorContains(t, err, "timeouts must be positive")
}

// TestRunDemo runs `approval demo` end to end on the embedded engine.
func TestRunDemo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "approval.db")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"demo", "--db", db, "--timeout", "200ms"}, &out, io.Discard))
	s := out.String()
	assert.Contains(t, s, "awaiting-approver: waiting for alice")
	assert.Contains(t, s, "awaiting-manager: waiting for bob")
	assert.Contains(t, s, `APPROVED by bob (escalated: true, auto-rejected: false): "approved on escalation"`)
	assert.Contains(t, s, "history stored in "+db)
}

// TestRunStart runs `approval start` and raises the event the way the CLI
// does: from a second engine handle on the same database file, with a raw
// JSON payload.
func TestRunStart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "approval.db")
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), []string{"start", "--db", db}, &out, io.Discard) }()

	cmd := regexp.MustCompile(`raise (approval-\S+) approval '(\{[^']*\})'`)
	var m []string
	require.Eventually(t, func() bool { m = cmd.FindStringSubmatch(out.String()); return m != nil }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, `{"approved":true,"by":"alice"}`, m[2])

	cli, err := embedded.Open(context.Background(), db, embedded.Options{})
	require.NoError(t, err)
	defer cli.Close()
	require.NoError(t, cli.RaiseEventRaw(context.Background(), m[1], EventName, []byte(`{"approved":false,"by":"alice","comment":"not now"}`)))

	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("approval start did not finish after the event was raised")
	}
	assert.Contains(t, out.String(), `REJECTED by alice (escalated: false, auto-rejected: false): "not now"`)
	st, err := cli.Status(context.Background(), m[1])
	require.NoError(t, err)
	assert.Equal(t, client.StatusCompleted, st.RuntimeStatus)
}

func TestRunBadArgs(t *testing.T) {
	db := filepath.Join(t.TempDir(), "approval.db")
	for _, args := range [][]string{nil, {"approve"}, {"demo", "--db", db, "--timeout", "-1s"}, {"start", "--db", db, "x"}} {
		assert.Error(t, run(context.Background(), args, io.Discard, io.Discard), "%q", args)
	}
}
