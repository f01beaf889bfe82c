package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
	"github.com/cloudbutton/cloudbutton/samples/internal/samplekit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newEnv(t *testing.T) *orchestrationtest.Env {
	env := orchestrationtest.New(t)
	env.RegisterActivities(activities()...)
	return env
}

func ledgerFiles(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func kinds(bs []Booking) []string {
	var ks []string
	for _, b := range bs {
		ks = append(ks, b.Kind)
	}
	return ks
}

func TestBookTrip(t *testing.T) {
	tests := []struct {
		name          string
		trip          Trip
		wantStatus    string
		wantBooked    []string
		wantCancelled []string
		wantReason    string
	}{
		{"all booked", Trip{Nights: 2, CarClass: "compact"}, "booked", []string{"flight", "hotel", "car"}, nil, ""},
		{"car sold out", Trip{Nights: 2, CarClass: "limousine"}, "rolled-back", nil, []string{"hotel", "flight"}, "SoldOut"},
		{"hotel fails", Trip{Nights: 0, CarClass: "compact"}, "rolled-back", nil, []string{"flight"}, "BadTrip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.trip.Ledger = t.TempDir()
			env := newEnv(t)
			it, err := orchestrationtest.Run(env, BookTrip, tt.trip)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, it.Status)
			assert.Equal(t, tt.wantBooked, kinds(it.Bookings))
			assert.Equal(t, tt.wantCancelled, kinds(it.Cancelled), "compensations run in reverse order")
			assert.Contains(t, it.Reason, tt.wantReason)
			assert.Len(t, ledgerFiles(t, tt.trip.Ledger), len(tt.wantBooked), "the ledger holds exactly what stays booked")
		})
	}
}

// TestBookTripRetriesThenRollsBack: a car provider that is down is retried
// (with back-off, on virtual time), then the saga rolls back.
func TestBookTripRetriesThenRollsBack(t *testing.T) {
	env := newEnv(t)
	ledger := t.TempDir()
	it, err := orchestrationtest.Run(env, BookTrip, Trip{Ledger: ledger, Nights: 1, CarClass: "flaky"})
	require.NoError(t, err)
	assert.Equal(t, "rolled-back", it.Status)
	assert.Contains(t, it.Reason, "ProviderUnavailable")
	var attempts int
	for _, e := range env.History() {
		if e.Type == "ActivityFailed" {
			attempts = e.Attempt
		}
	}
	assert.Equal(t, 5, attempts)
	assert.Empty(t, ledgerFiles(t, ledger))
}

// TestBookTripTerminated: terminating while the car booking is being
// retried still cancels the flight and the hotel (WithoutCancel).
func TestBookTripTerminated(t *testing.T) {
	env := newEnv(t)
	ledger := t.TempDir()
	cancels := orchestrationtest.MockActivity(env, Cancel, func(ctx context.Context, b Booking) (bool, error) { return Cancel.Run(ctx, b) })
	env.TerminateAfter(1500*time.Millisecond, "customer changed their mind")
	_, err := orchestrationtest.Run(env, BookTrip, Trip{Ledger: ledger, Nights: 1, CarClass: "flaky"})
	require.ErrorIs(t, err, orchestration.ErrCanceled)
	assert.Equal(t, []string{"hotel", "flight"}, kinds(cancels.Inputs()))
	assert.Empty(t, ledgerFiles(t, ledger))
}

// TestBookTripCompensationRetried: a compensation that fails transiently
// is retried until it succeeds.
func TestBookTripCompensationRetried(t *testing.T) {
	env := newEnv(t)
	ledger := t.TempDir()
	failures := 2
	calls := orchestrationtest.MockActivity(env, Cancel, func(ctx context.Context, b Booking) (bool, error) {
		if b.Kind == "hotel" && failures > 0 {
			failures--
			return false, activity.NewError("HotelAPIDown", "try later")
		}
		return Cancel.Run(ctx, b)
	})
	it, err := orchestrationtest.Run(env, BookTrip, Trip{Ledger: ledger, Nights: 1, CarClass: "limousine"})
	require.NoError(t, err)
	assert.Equal(t, []string{"hotel", "flight"}, kinds(it.Cancelled))
	assert.Equal(t, 4, calls.Count())
	assert.Empty(t, ledgerFiles(t, ledger))
}

// TestRunEndToEnd runs the sample's main on the embedded engine.
func TestRunEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "saga.db")
	ledger := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--db", db, "--ledger", ledger}, &out, io.Discard))
	assert.Contains(t, out.String(), "ROLLED BACK: nothing stays booked")
	assert.Regexp(t, `cancelled hotel .*\n  cancelled flight`, out.String())
	assert.Empty(t, ledgerFiles(t, ledger))

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"--db", db, "--ledger", ledger, "--car", "suv"}, &out, io.Discard))
	assert.Contains(t, out.String(), "BOOKED")
	assert.Len(t, ledgerFiles(t, ledger), 3)
	assert.Contains(t, out.String(), "history stored in "+db)
}

// TestTerminateEndToEnd terminates a saga on the embedded engine while
// the car booking is being retried: it ends Terminated with nothing
// booked.
func TestTerminateEndToEnd(t *testing.T) {
	ctx := context.Background()
	ledger := t.TempDir()
	rt, err := samplekit.Start(ctx, samplekit.Options{EngineFlags: samplekit.EngineFlags{DB: filepath.Join(t.TempDir(), "saga.db")},
		Orchestrators: []orchestration.Definition{BookTrip}, Activities: activities(), Logger: samplekit.QuietLogger(io.Discard)})
	require.NoError(t, err)
	defer rt.Close()
	id, err := client.Start(ctx, rt.Client, BookTrip, Trip{ID: "t", Ledger: ledger, Nights: 1, CarClass: "flaky"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(ledgerFiles(t, ledger)) == 2 }, 20*time.Second, 10*time.Millisecond,
		"the flight and the hotel get booked")
	require.NoError(t, rt.Client.Terminate(ctx, id, "customer changed their mind"))
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := rt.Client.Wait(wctx, id)
	require.NoError(t, err)
	assert.Equal(t, client.StatusTerminated, st.RuntimeStatus)
	assert.Empty(t, ledgerFiles(t, ledger), "compensations ran after the terminate request")
}
