package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// upAfter mocks CheckURL: down for n checks, then up.
func upAfter(env *orchestrationtest.Env, n int) *orchestrationtest.Calls[string] {
	var checks atomic.Int64
	return orchestrationtest.MockActivity(env, CheckURL, func(ctx context.Context, url string) (Probe, error) {
		if checks.Add(1) <= int64(n) {
			return Probe{Status: 503}, nil
		}
		return Probe{Up: true, Status: 200}, nil
	})
}

func TestMonitor(t *testing.T) {
	w := Watch{URL: "http://svc/health", Interval: time.Minute, MaxChecks: 20, ChecksPerRun: 3}
	tests := []struct {
		name    string
		downFor int
		max     int
		want    Result
	}{
		{"up at once", 0, 20, Result{Up: true, Checks: 1, Last: Probe{Up: true, Status: 200}}},
		{"up in the third run", 7, 20, Result{Up: true, Checks: 8, Last: Probe{Up: true, Status: 200}, Generation: 2}},
		{"up on the last check of a run", 2, 20, Result{Up: true, Checks: 3, Last: Probe{Up: true, Status: 200}}},
		{"gives up", 100, 5, Result{Checks: 5, Last: Probe{Status: 503}, Generation: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := orchestrationtest.New(t)
			calls := upAfter(env, tt.downFor)
			in := w
			in.MaxChecks = tt.max
			start := env.Now()
			res, err := orchestrationtest.Run(env, Monitor, in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, res)
			assert.Equal(t, tt.want.Checks, calls.Count())
			assert.Equal(t, tt.want.Generation, env.Generation())
			assert.Equal(t, time.Duration(min(tt.want.Checks-1, tt.max-1))*time.Minute, env.Now().Sub(start),
				"one durable timer between checks")
			// The last run's history holds at most ChecksPerRun checks and
			// timers: continue-as-new keeps it bounded.
			assert.LessOrEqual(t, len(env.History()), 2+4*w.ChecksPerRun)
			st, err := orchestrationtest.CustomStatus[Status](env)
			require.NoError(t, err)
			assert.Equal(t, tt.want.Checks, st.Checks)
		})
	}
}

// TestMonitorLongRunBoundedHistory: a thousand checks, a history of a
// dozen events.
func TestMonitorLongRunBoundedHistory(t *testing.T) {
	env := orchestrationtest.New(t)
	upAfter(env, 999)
	res, err := orchestrationtest.Run(env, Monitor, Watch{URL: "u", Interval: time.Hour, MaxChecks: 1000, ChecksPerRun: 5})
	require.NoError(t, err)
	assert.True(t, res.Up)
	assert.Equal(t, 1000, res.Checks)
	assert.Equal(t, 199, env.Generation())
	assert.Less(t, len(env.History()), 25)
}

func TestMonitorBadInput(t *testing.T) {
	for _, w := range []Watch{{}, {URL: "u", Interval: 0, MaxChecks: 1, ChecksPerRun: 1}, {URL: "u", Interval: time.Second, MaxChecks: 1}} {
		_, err := orchestrationtest.Run(orchestrationtest.New(t), Monitor, w)
		require.Error(t, err, "%+v", w)
	}
}

func TestCheckURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	p, err := CheckURL.Run(context.Background(), srv.URL+"/ok")
	require.NoError(t, err)
	assert.Equal(t, Probe{Up: true, Status: 200}, p)
	p, err = CheckURL.Run(context.Background(), srv.URL+"/down")
	require.NoError(t, err)
	assert.Equal(t, Probe{Status: 502}, p)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	p, err = CheckURL.Run(context.Background(), closed.URL)
	require.NoError(t, err, "a service that is down is data, not a failure")
	assert.False(t, p.Up)
	assert.NotEmpty(t, p.Error)
	_, err = CheckURL.Run(context.Background(), "::bad url")
	require.Error(t, err)
}

// TestRunEndToEnd runs the sample's main on the embedded engine, with
// real HTTP checks and durable timers.
func TestRunEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "monitor.db")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--db", db, "--interval", "20ms", "--demo-down", "4", "--checks-per-run", "2"}, &out, io.Discard))
	assert.Contains(t, out.String(), "UP after 5 checks, in run 2 (2 continue-as-new)")
	assert.Contains(t, out.String(), "history stored in "+db)

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"--db", db, "--interval", "10ms", "--demo-down", "100", "--max-checks", "3"}, &out, io.Discard))
	assert.Contains(t, out.String(), "still DOWN after 3 checks (down (503)); gave up in run 0")
	require.ErrorContains(t, run(context.Background(), []string{"--db", db, "--max-checks", "0"}, io.Discard, io.Discard), "--max-checks 0")
}
