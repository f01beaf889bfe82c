package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// Trip is a booking request. Ledger is the directory where the (fake)
// providers keep their bookings, one file per booking.
type Trip struct {
	ID       string `json:"id"`
	Ledger   string `json:"ledger"`
	From     string `json:"from"`
	To       string `json:"to"`
	Nights   int    `json:"nights"`
	CarClass string `json:"carClass"`
}

// Booking is a confirmed reservation.
type Booking struct {
	Kind string `json:"kind"`
	Ref  string `json:"ref"`
	// Ledger is where the booking is recorded.
	Ledger string `json:"ledger"`
}

func (b Booking) path() string { return filepath.Join(b.Ledger, b.Kind+"-"+b.Ref+".json") }

// Itinerary is the saga's result.
type Itinerary struct {
	// Status is "booked" or "rolled-back".
	Status   string    `json:"status"`
	Bookings []Booking `json:"bookings,omitempty"`
	// Cancelled lists the compensated bookings, in the order they were
	// cancelled (the reverse of booking order).
	Cancelled []Booking `json:"cancelled,omitempty"`
	// Reason is why the saga rolled back.
	Reason string `json:"reason,omitempty"`
}

// Car classes: AvailableCars can be booked, "flaky" fails with a
// retryable error every time (the provider is down), any other is sold
// out (not retryable).
var AvailableCars = []string{"compact", "suv"}

// book writes a booking to the ledger. The reference derives from the
// activity task, so a retried attempt finds and reuses its booking
// (idempotent).
func book(ctx context.Context, kind string, t Trip, details any) (Booking, error) {
	if t.Ledger == "" {
		return Booking{}, activity.NewNonRetryableError("BadTrip", "trip without a ledger directory")
	}
	info, _ := activity.InfoFrom(ctx)
	ref := strings.NewReplacer("/", "-", ":", "-").Replace(info.TaskKey())
	b := Booking{Kind: kind, Ref: ref, Ledger: t.Ledger}
	data, err := json.Marshal(map[string]any{"trip": t.ID, "kind": kind, "details": details})
	if err != nil {
		return Booking{}, err
	}
	if err := os.MkdirAll(t.Ledger, 0o755); err != nil {
		return Booking{}, err
	}
	return b, os.WriteFile(b.path(), data, 0o644)
}

// BookFlight, BookHotel and BookCar reserve one part of the trip.
var (
	BookFlight = activity.New("saga.book-flight", func(ctx context.Context, t Trip) (Booking, error) {
		return book(ctx, "flight", t, fmt.Sprintf("%s -> %s", t.From, t.To))
	})
	BookHotel = activity.New("saga.book-hotel", func(ctx context.Context, t Trip) (Booking, error) {
		if t.Nights <= 0 {
			return Booking{}, activity.NewNonRetryableError("BadTrip", fmt.Sprintf("%d nights", t.Nights))
		}
		return book(ctx, "hotel", t, fmt.Sprintf("%d nights in %s", t.Nights, t.To))
	})
	BookCar = activity.New("saga.book-car", func(ctx context.Context, t Trip) (Booking, error) {
		switch {
		case t.CarClass == "flaky":
			return Booking{}, activity.NewError("ProviderUnavailable", "the car provider is not answering")
		case !slices.Contains(AvailableCars, t.CarClass):
			return Booking{}, activity.NewNonRetryableError("SoldOut", fmt.Sprintf("no %q cars left in %s", t.CarClass, t.To))
		}
		return book(ctx, "car", t, t.CarClass+" in "+t.To)
	})
)

// Cancel compensates a booking: it removes it from the ledger. Cancelling
// twice is harmless.
var Cancel = activity.New("saga.cancel", func(ctx context.Context, b Booking) (bool, error) {
	err := os.Remove(b.path())
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
})

// BookTrip books a flight, a hotel and a car. When a step fails, or the
// orchestration is terminated while it runs, the bookings already made
// are cancelled in reverse order: compensations run on a context from
// orchestration.WithoutCancel, so a terminate request does not stop them.
var BookTrip = orchestration.New("saga.book-trip", func(ctx orchestration.Context, t Trip) (Itinerary, error) {
	var it Itinerary
	steps := []struct {
		act  *activity.Activity[Trip, Booking]
		opts []orchestration.CallOption
	}{
		{BookFlight, nil},
		{BookHotel, nil},
		{BookCar, []orchestration.CallOption{orchestration.WithRetry(orchestration.RetryPolicy{
			MaxAttempts: 5, InitialInterval: time.Second, NonRetryableErrorTypes: []string{"SoldOut"}})}},
	}
	var failure error
	for _, s := range steps {
		b, err := orchestration.Call(ctx, s.act, t, s.opts...).Await(ctx)
		if err != nil {
			failure = fmt.Errorf("%s: %w", s.act.Name(), err)
			break
		}
		it.Bookings = append(it.Bookings, b)
	}
	if failure == nil {
		it.Status = "booked"
		return it, nil
	}

	// Compensate, newest first, even if the orchestration was terminated.
	cctx := orchestration.WithoutCancel(ctx)
	for i := len(it.Bookings) - 1; i >= 0; i-- {
		b := it.Bookings[i]
		if _, err := orchestration.Call(cctx, Cancel, b, orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 10})).Await(cctx); err != nil {
			return it, fmt.Errorf("compensating %s %s after %v: %w", b.Kind, b.Ref, failure, err)
		}
		it.Cancelled = append(it.Cancelled, b)
	}
	if errors.Is(failure, orchestration.ErrCanceled) {
		return it, orchestration.ErrCanceled // terminated: end Terminated, rolled back
	}
	it.Status, it.Reason, it.Bookings = "rolled-back", failure.Error(), nil
	return it, nil
})

func activities() []activity.Definition {
	return []activity.Definition{BookFlight, BookHotel, BookCar, Cancel}
}
