package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// Order is what ProcessOrder processes.
type Order struct {
	ID string `json:"id"`
	// AmountCents is the order's total.
	AmountCents int64 `json:"amountCents"`
	// Country is the ISO code of the shipping address.
	Country string `json:"country"`
	// Shipping is "express", "standard" or "pickup".
	Shipping string   `json:"shipping"`
	Items    []string `json:"items"`
}

// Outcome is what happened to an order.
type Outcome struct {
	// Status is "shipped", "ready-for-pickup" or "rejected".
	Status string `json:"status"`
	// Path lists the states the order went through, in order.
	Path []string `json:"path"`
	// Reference is the tracking number or pickup code.
	Reference string `json:"reference,omitempty"`
}

// ReviewThresholdCents is the amount above which an order needs a manual
// review.
const ReviewThresholdCents = 100_000

func code(prefix string, parts ...string) string {
	h := fnv.New32a()
	h.Write([]byte(strings.Join(parts, "|")))
	return fmt.Sprintf("%s-%08X", prefix, h.Sum32())
}

// RiskScore scores an order from 0 (safe) to 100.
var RiskScore = activity.New("choice.risk-score", func(ctx context.Context, o Order) (int, error) {
	score := 10
	if o.AmountCents > ReviewThresholdCents {
		score += 40
	}
	if o.Country != "ES" && o.Country != "FR" && o.Country != "DE" {
		score += 30
	}
	return score, nil
})

// ManualReview asks the review team (here: a rule) whether to accept a
// risky order.
var ManualReview = activity.New("choice.manual-review", func(ctx context.Context, o Order) (bool, error) {
	return o.AmountCents <= 10*ReviewThresholdCents, nil
})

// ReserveStock reserves the items and returns a reservation id.
var ReserveStock = activity.New("choice.reserve-stock", func(ctx context.Context, o Order) (string, error) {
	if len(o.Items) == 0 {
		return "", activity.NewNonRetryableError("EmptyOrder", fmt.Sprintf("order %s has no items", o.ID))
	}
	return code("RSV", append([]string{o.ID}, o.Items...)...), nil
})

// PackItems packs a reservation into a parcel.
var PackItems = activity.New("choice.pack", func(ctx context.Context, reservation string) (string, error) {
	return code("PCL", reservation), nil
})

// ChargeCard charges the order's amount and returns a receipt id.
var ChargeCard = activity.New("choice.charge-card", func(ctx context.Context, o Order) (string, error) {
	return code("RCT", o.ID, fmt.Sprint(o.AmountCents)), nil
})

// ShipExpress, ShipStandard and NotifyPickup hand a parcel over.
var (
	ShipExpress = activity.New("choice.ship-express", func(ctx context.Context, parcel string) (string, error) {
		return code("EXP", parcel), nil
	})
	ShipStandard = activity.New("choice.ship-standard", func(ctx context.Context, parcel string) (string, error) {
		return code("STD", parcel), nil
	})
	NotifyPickup = activity.New("choice.notify-pickup", func(ctx context.Context, parcel string) (string, error) {
		return code("PICK", parcel), nil
	})
)

// ProcessOrder shows the two Step Functions states that are plain Go in
// an orchestrator:
//
//   - Choice: branch on data with if and switch (risk review, shipping
//     method, and the Default branch as an error);
//   - Parallel: run branches concurrently with orchestration.Go (each
//     branch a sequence of its own) and join them by awaiting both.
var ProcessOrder = orchestration.New("choice.process-order", func(ctx orchestration.Context, o Order) (Outcome, error) {
	var out Outcome
	step := func(s string) { out.Path = append(out.Path, s) }

	// Choice: the risk decides whether a person must look at the order.
	score, err := orchestration.Call(ctx, RiskScore, o).Await(ctx)
	if err != nil {
		return out, err
	}
	step(fmt.Sprintf("risk-score=%d", score))
	if score >= 50 {
		ok, err := orchestration.Call(ctx, ManualReview, o).Await(ctx)
		if err != nil {
			return out, err
		}
		step(fmt.Sprintf("manual-review=%v", ok))
		if !ok {
			out.Status = "rejected"
			return out, nil
		}
	}

	// Parallel: stock (reserve, then pack) and payment at the same time.
	parcelF := orchestration.Go(ctx, func(ctx orchestration.Context) (string, error) {
		rsv, err := orchestration.Call(ctx, ReserveStock, o).Await(ctx)
		if err != nil {
			return "", err
		}
		return orchestration.Call(ctx, PackItems, rsv).Await(ctx)
	})
	receiptF := orchestration.Call(ctx, ChargeCard, o)
	parcel, err := parcelF.Await(ctx)
	if err != nil {
		return out, fmt.Errorf("stock branch: %w", err)
	}
	receipt, err := receiptF.Await(ctx)
	if err != nil {
		return out, fmt.Errorf("payment branch: %w", err)
	}
	step("parallel(reserve+pack, charge=" + receipt + ")")

	// Choice: the shipping method picks the last state.
	switch o.Shipping {
	case "express":
		out.Reference, err = orchestration.Call(ctx, ShipExpress, parcel).Await(ctx)
		out.Status = "shipped"
	case "standard", "":
		out.Reference, err = orchestration.Call(ctx, ShipStandard, parcel).Await(ctx)
		out.Status = "shipped"
	case "pickup":
		out.Reference, err = orchestration.Call(ctx, NotifyPickup, parcel).Await(ctx)
		out.Status = "ready-for-pickup"
	default: // the Default branch of a Choice state, here a Fail state
		return out, fmt.Errorf("order %s: unknown shipping method %q (want express, standard or pickup)", o.ID, o.Shipping)
	}
	if err != nil {
		return out, err
	}
	step(out.Status)
	return out, nil
})

func activities() []activity.Definition {
	return []activity.Definition{RiskScore, ManualReview, ReserveStock, PackItems, ChargeCard, ShipExpress, ShipStandard, NotifyPickup}
}
