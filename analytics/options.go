package analytics

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/calldefaults"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/option"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// Option configures Map, MapReduce and MapReduceByKey. Options apply in
// order, a later one overriding an earlier one; a constructor given a bad
// value returns an option that makes the map fail before anything is
// scheduled, naming it, e.g. `analytics.Map("square"): WithFanIn(1): want
// at least 2`.
type Option func(*config) error

func invalid(format string, args ...any) Option {
	err := fmt.Errorf(format, args...)
	return func(*config) error { return err }
}

// config is plain data so that sub-orchestrations receive it in their
// input; progress is the only part that stays in the calling orchestrator.
type config struct {
	MaxInFlight      int                        `json:"maxInFlight,omitempty"`
	TolerateN        int                        `json:"tolerateN,omitempty"`
	TolerateFraction float64                    `json:"tolerateFraction,omitempty"`
	Retry            *orchestration.RetryPolicy `json:"retry,omitempty"`
	StartToClose     time.Duration              `json:"startToClose,omitempty"`
	MaxItems         int                        `json:"maxItems,omitempty"`
	FanIn            int                        `json:"fanIn,omitempty"`
	// CallDefaults are the default call options of the calling context
	// (orchestration.WithCallOptions), which sub-orchestrations take on.
	CallDefaults *core.ActivityOptions `json:"callDefaults,omitempty"`
	progress     func(orchestration.Context, Progress)
}

// buildConfig applies opts and takes the call defaults of ctx; call names
// the map in the error.
func buildConfig(ctx orchestration.Context, call string, opts []Option) (config, error) {
	cfg := config{FanIn: DefaultFanIn}
	if err := option.Apply(&cfg, opts); err != nil {
		return cfg, fmt.Errorf("%s: %w", call, err)
	}
	d, err := calldefaults.Of(ctx)
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", call, err)
	}
	cfg.CallDefaults = d
	return cfg, nil
}

// withCallDefaults is the context of a sub-orchestration: its calls start
// from the defaults of the orchestration that started the map.
func withCallDefaults(ctx orchestration.Context, cfg config) orchestration.Context {
	if cfg.CallDefaults == nil {
		return ctx
	}
	return calldefaults.With(ctx, *cfg.CallDefaults).(orchestration.Context)
}

// allowed returns how many of total item failures the policy tolerates.
func (c config) allowed(total int) int {
	if c.TolerateFraction > 0 {
		return int(math.Floor(c.TolerateFraction * float64(total)))
	}
	return c.TolerateN
}

func (c config) callOptions() []orchestration.CallOption {
	var opts []orchestration.CallOption
	if c.Retry != nil {
		opts = append(opts, orchestration.WithRetry(*c.Retry))
	}
	if c.StartToClose > 0 {
		opts = append(opts, orchestration.WithStartToCloseTimeout(c.StartToClose))
	}
	return opts
}

// DefaultFanIn is how many partial results one reduce call combines
// unless WithFanIn says otherwise.
const DefaultFanIn = 16

// WithMaxInFlight bounds how many activity calls run at a time (0, the
// default: no bound).
func WithMaxInFlight(n int) Option {
	if n < 0 {
		return invalid("WithMaxInFlight(%d): negative", n)
	}
	return func(c *config) error { c.MaxInFlight = n; return nil }
}

// FailFast fails the map at the first item failure (after its retries).
// It is the default policy.
func FailFast() Option {
	return func(c *config) error { c.TolerateN, c.TolerateFraction = 0, 0; return nil }
}

// TolerateFailures lets up to n items fail; their indexes and errors are
// reported in the result. It replaces any earlier failure policy.
func TolerateFailures(n int) Option {
	if n < 0 {
		return invalid("TolerateFailures(%d): negative", n)
	}
	return func(c *config) error { c.TolerateN, c.TolerateFraction = n, 0; return nil }
}

// TolerateFailureRate lets up to fraction (0 to 1; 0.05 is 5%) of the
// items fail, rounded down; their indexes and errors are reported in the
// result. It replaces any earlier failure policy.
func TolerateFailureRate(fraction float64) Option {
	if math.IsNaN(fraction) || fraction < 0 || fraction > 1 {
		return invalid("TolerateFailureRate(%g): want a fraction between 0 and 1", fraction)
	}
	return func(c *config) error { c.TolerateN, c.TolerateFraction = 0, fraction; return nil }
}

// WithRetry retries each activity call (map and reduce) per p, in place
// of the policy of the context's default call options. An invalid policy
// is an error, as for orchestration.WithRetry.
func WithRetry(p orchestration.RetryPolicy) Option {
	r := core.RetryPolicy(p)
	if err := r.Validate(); err != nil {
		return invalid("WithRetry: %w", err)
	}
	p.NonRetryableErrorTypes = slices.Clone(p.NonRetryableErrorTypes)
	return func(c *config) error { c.Retry = &p; return nil }
}

// WithStartToCloseTimeout bounds each attempt of each activity call, in
// place of the timeout of the context's default call options. A negative
// duration is an error.
func WithStartToCloseTimeout(d time.Duration) Option {
	if d < 0 {
		return invalid("WithStartToCloseTimeout(%s): negative", d)
	}
	return func(c *config) error { c.StartToClose = d; return nil }
}

// MaxItemsPerOrchestration runs a map of more than n items as
// sub-orchestrations of at most n items each (nested when there are more
// than n of those), so no history holds more than about n calls. The
// sub-orchestrator must be registered: see MapOrchestrator,
// MapReduceOrchestrator and MapReduceByKeyOrchestrator. 0, the default,
// never splits.
func MaxItemsPerOrchestration(n int) Option {
	if n < 0 || n == 1 {
		return invalid("MaxItemsPerOrchestration(%d): want 0 (no bound) or at least 2", n)
	}
	return func(c *config) error { c.MaxItems = n; return nil }
}

// WithFanIn sets how many partial results one reduce call combines (at
// least 2; default DefaultFanIn). Map ignores it.
func WithFanIn(k int) Option {
	if k < 2 {
		return invalid("WithFanIn(%d): want at least 2", k)
	}
	return func(c *config) error { c.FanIn = k; return nil }
}

// Progress is how far a map has got.
type Progress struct {
	Done   int `json:"done"`
	Failed int `json:"failed"`
	Total  int `json:"total"`
}

// WithProgress calls fn in the orchestrator, deterministically, each time
// items finish (for example to publish orchestration.SetCustomStatus).
// With sub-orchestrations, progress advances as each one finishes.
func WithProgress(fn func(ctx orchestration.Context, p Progress)) Option {
	if fn == nil {
		return invalid("WithProgress(nil)")
	}
	return func(c *config) error { c.progress = fn; return nil }
}
