package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newEnv(t *testing.T) *orchestrationtest.Env {
	env := orchestrationtest.New(t)
	env.RegisterActivities(activities()...)
	return env
}

func TestProcessOrderBranches(t *testing.T) {
	tests := []struct {
		name       string
		order      Order
		wantStatus string
		wantLast   string // the last activity: which branch ran
		wantReview bool
	}{
		{"small, express", Order{ID: "1", AmountCents: 100, Country: "ES", Shipping: "express", Items: []string{"a"}}, "shipped", ShipExpress.Name(), false},
		{"small, default shipping", Order{ID: "2", AmountCents: 100, Country: "FR", Items: []string{"a"}}, "shipped", ShipStandard.Name(), false},
		{"risky, reviewed, pickup", Order{ID: "3", AmountCents: 200_000, Country: "US", Shipping: "pickup", Items: []string{"a"}}, "ready-for-pickup", NotifyPickup.Name(), true},
		{"risky, rejected", Order{ID: "4", AmountCents: 50_000_000, Country: "US", Shipping: "express", Items: []string{"a"}}, "rejected", ManualReview.Name(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			out, err := orchestrationtest.Run(env, ProcessOrder, tt.order)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, out.Status)
			names := orchestrationtest.ScheduledActivities(env.History())
			assert.Equal(t, tt.wantLast, names[len(names)-1])
			assert.Equal(t, tt.wantReview, assert.ObjectsAreEqual(names[1], ManualReview.Name()))
			if out.Status != "rejected" {
				assert.NotEmpty(t, out.Reference)
				assert.Equal(t, out.Status, out.Path[len(out.Path)-1])
			}
		})
	}
}

// TestProcessOrderReviewDecides: with the review mocked, the decision
// alone picks the branch.
func TestProcessOrderReviewDecides(t *testing.T) {
	for _, approve := range []bool{true, false} {
		env := newEnv(t)
		calls := orchestrationtest.MockActivity(env, ManualReview, func(ctx context.Context, o Order) (bool, error) { return approve, nil })
		out, err := orchestrationtest.Run(env, ProcessOrder, Order{ID: "r", AmountCents: 200_000, Country: "JP", Items: []string{"x"}})
		require.NoError(t, err)
		assert.Equal(t, 1, calls.Count())
		if approve {
			assert.Equal(t, "shipped", out.Status)
		} else {
			assert.Equal(t, "rejected", out.Status)
			assert.NotContains(t, orchestrationtest.ScheduledActivities(env.History()), ChargeCard.Name(), "a rejected order is never charged")
		}
	}
}

// TestProcessOrderParallel: both branches are scheduled before either
// completes.
func TestProcessOrderParallel(t *testing.T) {
	env := newEnv(t)
	_, err := orchestrationtest.Run(env, ProcessOrder, Order{ID: "p", AmountCents: 10, Country: "ES", Items: []string{"x"}})
	require.NoError(t, err)
	var order []string
	for _, e := range env.History() {
		switch e.Type {
		case "ActivityScheduled":
			order = append(order, "+"+e.Name)
		case "ActivityCompleted":
			order = append(order, "done")
		}
	}
	assert.Equal(t, []string{"+" + RiskScore.Name(), "done"}, order[:2])
	assert.ElementsMatch(t, []string{"+" + ReserveStock.Name(), "+" + ChargeCard.Name()}, order[2:4],
		"the stock branch and the payment branch are both scheduled before either completes")
}

func TestProcessOrderFailures(t *testing.T) {
	tests := []struct {
		name    string
		order   Order
		wantErr string
	}{
		{"default branch", Order{ID: "d", AmountCents: 10, Country: "ES", Shipping: "drone", Items: []string{"x"}}, `unknown shipping method "drone"`},
		{"failing branch", Order{ID: "e", AmountCents: 10, Country: "ES"}, "stock branch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := orchestrationtest.Run(newEnv(t), ProcessOrder, tt.order)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestRunEndToEnd runs the sample's main on the embedded engine.
func TestRunEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "choice.db")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--db", db}, &out, io.Discard))
	s := out.String()
	assert.Contains(t, s, "order A-1 (42.00, ES, express): shipped EXP-")
	assert.Contains(t, s, "order B-2 (2500.00, US, pickup): ready-for-pickup PICK-")
	assert.Contains(t, s, "path: risk-score=80 -> manual-review=false")
	assert.Contains(t, s, "history stored in "+db)

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"--db", db, "--amount", "12.5", "--shipping", "pickup"}, &out, io.Discard))
	assert.Contains(t, out.String(), "order CLI-1 (12.50, ES, pickup): ready-for-pickup")
	require.ErrorContains(t, run(context.Background(), []string{"--db", db, "--amount", "1", "--shipping", "drone"}, io.Discard, io.Discard), `unknown shipping method "drone"`)
}
