package orchestration

import (
	"fmt"
	"slices"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/calldefaults"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/option"
)

// The options of this package, like every option of the module, are
// funcs over the unexported settings of what they configure. Their
// constructors check the value they are given; a bad one gives an option
// that fails the call it is passed to, with an error that names the call,
// the option and the value, e.g.
//
//	orchestration.Call("charge"): WithStartToCloseTimeout(-1s): negative
//
// Options apply in order (a later one overrides an earlier one), and a
// nil option is reported by its position.

// CallOption configures an activity call: Call, CallNamed, CallAll, and
// the defaults set with WithCallOptions.
type CallOption func(*callSettings) error

// callSettings are what call options set.
type callSettings struct{ act core.ActivityOptions }

// invalidCall is the option of a constructor given a bad value.
func invalidCall(format string, args ...any) CallOption {
	err := fmt.Errorf(format, args...)
	return func(*callSettings) error { return err }
}

// WithRetry sets the retry policy of a call. A policy with a negative
// count or interval, a BackoffCoefficient below 1 or a MaxInterval below
// the InitialInterval is an error.
func WithRetry(p RetryPolicy) CallOption {
	r := core.RetryPolicy(p)
	if err := r.Validate(); err != nil {
		return invalidCall("WithRetry: %w", err)
	}
	r.NonRetryableErrorTypes = slices.Clone(p.NonRetryableErrorTypes)
	return func(s *callSettings) error { s.act.Retry = &r; return nil } // buildCall copies it
}

// WithStartToCloseTimeout bounds each attempt of a call (0: the worker's
// default). A negative duration is an error.
func WithStartToCloseTimeout(d time.Duration) CallOption {
	if d < 0 {
		return invalidCall("WithStartToCloseTimeout(%s): negative", d)
	}
	return func(s *callSettings) error { s.act.StartToClose = d; return nil }
}

// WithHeartbeatTimeout fails an attempt that has not called
// activity.Heartbeat for d (0: no heartbeat is required). A negative
// duration is an error.
func WithHeartbeatTimeout(d time.Duration) CallOption {
	if d < 0 {
		return invalidCall("WithHeartbeatTimeout(%s): negative", d)
	}
	return func(s *callSettings) error { s.act.HeartbeatTimeout = d; return nil }
}

// callDefaults are the default call options of a context, applied once,
// when WithCallOptions was called.
type callDefaults struct {
	settings callSettings
	// err is the first invalid default: every call that uses them fails
	// with it.
	err error
}

// WithCallOptions returns a copy of ctx whose activity calls start from
// opts: Call, CallNamed and CallAll, and the calls of analytics.Map and
// analytics.MapReduce (those of their sub-orchestrations included). A
// call's own options apply after the defaults, so they override them. The
// contexts derived from the result (by Go and WithoutCancel) inherit the
// defaults, and a nested WithCallOptions adds its options to them.
// Sub-orchestrations started with CallSub do not inherit them: each
// orchestrator sets its own.
//
// An invalid default fails every call that uses it, with an error naming
// it, e.g. `orchestration.Call("charge"): WithCallOptions:
// WithRetry: MaxAttempts -1 is negative`; nothing is scheduled then.
//
// Defaults are not recorded in history apart from the calls: they become
// each call's options, which are recorded with the call as always, so
// replay does not depend on where the options were given.
func WithCallOptions(ctx Context, opts ...CallOption) Context {
	d := &callDefaults{}
	if parent := ctx.callDefaults(); parent != nil {
		*d = *parent
	}
	if d.err == nil {
		if err := option.Apply(&d.settings, opts); err != nil {
			d.err = fmt.Errorf("WithCallOptions: %w", err)
		}
	}
	return ctxImpl{c: ctx.engine(), calls: d}
}

// buildCall returns the options of a call on ctx: its defaults, then opts.
func buildCall(ctx Context, opts []CallOption) (core.ActivityOptions, error) {
	var s callSettings
	if d := ctx.callDefaults(); d != nil {
		if d.err != nil {
			return s.act, d.err
		}
		s = d.settings
	}
	if err := option.Apply(&s, opts); err != nil {
		return s.act, err
	}
	if s.act.Retry != nil { // each call owns its policy
		r := *s.act.Retry
		s.act.Retry = &r
	}
	return s.act, nil
}

// The analytics package reads and sets the defaults of a context through
// calldefaults, to carry them into the sub-orchestrations of large maps.
func init() {
	calldefaults.Of = func(ctx any) (*core.ActivityOptions, error) {
		d := ctx.(Context).callDefaults()
		if d == nil {
			return nil, nil
		}
		if d.err != nil {
			return nil, d.err
		}
		o := d.settings.act
		return &o, nil
	}
	calldefaults.With = func(ctx any, o core.ActivityOptions) any {
		return ctxImpl{c: ctx.(Context).engine(), calls: &callDefaults{settings: callSettings{act: o}}}
	}
}

// SubOption configures a sub-orchestration call: CallSub and
// CallSubNamed.
type SubOption func(*subSettings) error

// subSettings are what sub-orchestration options set.
type subSettings struct{ sub core.SubOptions }

// WithInstanceID sets the child's instance id (default "<parent>:<step>").
// An empty id is an error: omit the option for the default.
func WithInstanceID(id string) SubOption {
	if id == "" {
		return func(*subSettings) error {
			return fmt.Errorf(`WithInstanceID(""): empty; omit the option for the default id`)
		}
	}
	return func(s *subSettings) error { s.sub.InstanceID = id; return nil }
}

// ContinueAsNewOption configures ContinueAsNew.
type ContinueAsNewOption func(*continueSettings) error

// continueSettings are what ContinueAsNew options set.
type continueSettings struct{ keepEvents bool }

// KeepUnprocessedEvents carries external events that arrived but were not
// consumed over to the new run.
func KeepUnprocessedEvents() ContinueAsNewOption {
	return func(s *continueSettings) error { s.keepEvents = true; return nil }
}
