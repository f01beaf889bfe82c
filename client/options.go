package client

import (
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/option"
)

// StartOption configures Start. Options apply in order, a later one
// overriding an earlier one; a constructor given a bad value returns an
// option that makes Start fail, naming it, e.g.
// `client.Start("order"): WithReusePolicy(7): unknown policy`.
type StartOption func(*startSettings) error

// startSettings are what start options set: the StartOptions that Start
// passes to StartRaw.
type startSettings struct{ opts StartOptions }

func invalidStart(format string, args ...any) StartOption {
	err := fmt.Errorf(format, args...)
	return func(*startSettings) error { return err }
}

// WithInstanceID sets the instance id (default: a new random id). An empty
// id is an error: omit the option for a random one.
func WithInstanceID(id string) StartOption {
	if id == "" {
		return invalidStart(`WithInstanceID(""): empty; omit the option for a random id`)
	}
	return func(s *startSettings) error { s.opts.InstanceID = id; return nil }
}

// WithReusePolicy sets the id-reuse policy (default ReuseIfFinished). A
// value that is not one of the ReusePolicy constants is an error.
func WithReusePolicy(p ReusePolicy) StartOption {
	switch p {
	case ReuseIfFinished, RejectDuplicate, TerminateIfRunning:
	default:
		return invalidStart("WithReusePolicy(%d): unknown policy", p)
	}
	return func(s *startSettings) error { s.opts.Reuse = p; return nil }
}

// WithStartAt schedules the start for t (a scheduled start): the instance
// is created at once, Pending, and runs its first step at t, or as soon as
// possible if t is past. Its Context.Now starts at t. A zero t is an
// error: omit the option to start now.
func WithStartAt(t time.Time) StartOption {
	if t.IsZero() {
		return invalidStart("WithStartAt(%s): zero time; omit the option to start now", t.Format(time.RFC3339))
	}
	return func(s *startSettings) error {
		if s.opts.Debounce {
			return errDebounceAndStartAt
		}
		s.opts.StartAt = t
		return nil
	}
}

// NewStartOptions applies opts to the StartOptions of StartRaw, with the
// checks Start makes: for callers of StartRaw (the CLI, an HTTP API).
func NewStartOptions(opts ...StartOption) (StartOptions, error) {
	var s startSettings
	if err := option.Apply(&s, opts); err != nil {
		return StartOptions{}, err
	}
	return s.opts, nil
}
