package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// Probe is the outcome of one check. A service that is down is data, not
// an activity failure.
type Probe struct {
	Up     bool   `json:"up"`
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// CheckURL sends a GET to a URL and reports whether it answered 2xx
// within five seconds.
var CheckURL = activity.New("monitor.check-url", func(ctx context.Context, url string) (Probe, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Probe{}, activity.NewNonRetryableError("BadURL", err.Error())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Probe{Error: err.Error()}, nil
	}
	defer resp.Body.Close()
	return Probe{Up: resp.StatusCode/100 == 2, Status: resp.StatusCode}, nil
})

// Watch is the monitor's input, carried from run to run by
// continue-as-new.
type Watch struct {
	URL      string        `json:"url"`
	Interval time.Duration `json:"interval"`
	// MaxChecks bounds the checks over all runs; ChecksPerRun is how many
	// checks one run makes before it continues as new.
	MaxChecks    int `json:"maxChecks"`
	ChecksPerRun int `json:"checksPerRun"`
	// Checks counts the checks made by earlier runs, and Last is the
	// latest one's outcome.
	Checks int   `json:"checks"`
	Last   Probe `json:"last"`
}

// Result is the monitor's outcome.
type Result struct {
	Up     bool  `json:"up"`
	Checks int   `json:"checks"`
	Last   Probe `json:"last"`
	// Generation is the run that finished (0: the first).
	Generation int `json:"generation"`
}

// Status is the monitor's custom status.
type Status struct {
	Checks     int   `json:"checks"`
	Generation int   `json:"generation"`
	Last       Probe `json:"last"`
}

// Monitor polls a URL on a durable timer until it is up or MaxChecks
// checks were made. It is an eternal orchestration with bounded history:
// every ChecksPerRun checks it continues as new, starting over with an
// empty history and its progress carried in its input.
var Monitor = orchestration.New("monitor.monitor", func(ctx orchestration.Context, w Watch) (Result, error) {
	switch {
	case w.URL == "":
		return Result{}, errors.New("monitor: no URL to watch")
	case w.Interval <= 0 || w.MaxChecks <= 0 || w.ChecksPerRun <= 0:
		return Result{}, fmt.Errorf("monitor: interval %s, max checks %d and checks per run %d must be positive", w.Interval, w.MaxChecks, w.ChecksPerRun)
	}
	gen := ctx.Info().Generation
	for range w.ChecksPerRun {
		if w.Checks >= w.MaxChecks {
			return Result{Checks: w.Checks, Last: w.Last, Generation: gen}, nil
		}
		p, err := orchestration.Call(ctx, CheckURL, w.URL).Await(ctx)
		if err != nil {
			return Result{}, err
		}
		w.Checks++
		w.Last = p
		_ = orchestration.SetCustomStatus(ctx, Status{Checks: w.Checks, Generation: gen, Last: p})
		if p.Up || w.Checks >= w.MaxChecks {
			return Result{Up: p.Up, Checks: w.Checks, Last: p, Generation: gen}, nil
		}
		if err := orchestration.Sleep(ctx, w.Interval); err != nil {
			return Result{}, err
		}
	}
	return Result{}, orchestration.ContinueAsNew(ctx, w)
})
