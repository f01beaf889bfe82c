package worker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cloudbutton/cloudbutton/worker"
)

// noEngine fails a test that reaches it: invalid options stop Start first.
type noEngine struct{ t *testing.T }

func (e noEngine) StartWorker(context.Context, *worker.Registry, worker.Options) (func(context.Context) error, error) {
	e.t.Fatal("StartWorker called with invalid key limits")
	return nil, nil
}

func TestStartRefusesInvalidKeyLimits(t *testing.T) {
	cases := []struct {
		name  string
		limit []worker.KeyLimit
		want  string
	}{
		{"zero", []worker.KeyLimit{{Key: "api"}}, `key "api": a limit of 0`},
		{"negative rate", []worker.KeyLimit{{Key: "api", PerSecond: -1}}, "rate -1/s is negative"},
		{"negative in flight", []worker.KeyLimit{{Key: "api", MaxInFlight: -3}}, "in-flight limit -3 is negative"},
		{"empty key", []worker.KeyLimit{{MaxInFlight: 1}}, "empty key"},
		{"twice", []worker.KeyLimit{{Key: "a", MaxInFlight: 1}, {Key: "a", MaxInFlight: 2}}, `key "a" is limited twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := worker.New(noEngine{t}, worker.Options{KeyLimits: c.limit})
			err := w.Start(context.Background())
			if !errors.Is(err, worker.ErrInvalidLimit) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Start: %v; want ErrInvalidLimit with %q", err, c.want)
			}
		})
	}
}

func TestParseKeyLimit(t *testing.T) {
	l, err := worker.ParseKeyLimit("api.stripe.com=10,5/s")
	if err != nil || l != (worker.KeyLimit{Key: "api.stripe.com", MaxInFlight: 10, PerSecond: 5}) {
		t.Fatalf("ParseKeyLimit = %+v, %v", l, err)
	}
	if _, err := worker.ParseKeyLimit("api=0"); !errors.Is(err, worker.ErrInvalidLimit) {
		t.Fatalf("a limit of 0: %v", err)
	}
}

// Limits of keyed activity calls (orchestration.WithKey): 10 calls to the
// payment API at once and 5 started per second, and 2 at once for each
// tenant, over all instances.
func ExampleKeyLimit() {
	opts := worker.Options{KeyLimits: []worker.KeyLimit{
		{Key: "api.stripe.com", MaxInFlight: 10, PerSecond: 5},
		{Key: "tenant-*", MaxInFlight: 2},
	}}
	for _, l := range opts.KeyLimits {
		fmt.Println(l)
	}
	l, err := worker.ParseKeyLimit("api.stripe.com=0")
	fmt.Println(l, err)
	// Output:
	// api.stripe.com=10,5/s
	// tenant-*=2
	// = worker: invalid key limit: "api.stripe.com=0": an in-flight limit of 0 (at least 1)
}
