package analytics

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cloudbutton/cloudbutton/orchestration"
)

// Option configures Map, MapReduce and MapReduceByKey.
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

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
	progress         func(orchestration.Context, Progress)
}

func buildConfig(opts []Option) (config, error) {
	cfg := config{FanIn: DefaultFanIn}
	for i, o := range opts {
		if o == nil {
			return cfg, fmt.Errorf("analytics: option %d is nil", i)
		}
		if err := o.apply(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
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
	return optionFunc(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("analytics: WithMaxInFlight(%d): negative", n)
		}
		c.MaxInFlight = n
		return nil
	})
}

// FailFast fails the map at the first item failure (after its retries).
// It is the default policy.
func FailFast() Option {
	return optionFunc(func(c *config) error { c.TolerateN, c.TolerateFraction = 0, 0; return nil })
}

// TolerateFailures lets up to n items fail; their indexes and errors are
// reported in the result. It replaces any earlier failure policy.
func TolerateFailures(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("analytics: TolerateFailures(%d): negative", n)
		}
		c.TolerateN, c.TolerateFraction = n, 0
		return nil
	})
}

// TolerateFailureRate lets up to fraction (0 to 1; 0.05 is 5%) of the
// items fail, rounded down; their indexes and errors are reported in the
// result. It replaces any earlier failure policy.
func TolerateFailureRate(fraction float64) Option {
	return optionFunc(func(c *config) error {
		if math.IsNaN(fraction) || fraction < 0 || fraction > 1 {
			return fmt.Errorf("analytics: TolerateFailureRate(%g): want a fraction between 0 and 1", fraction)
		}
		c.TolerateN, c.TolerateFraction = 0, fraction
		return nil
	})
}

// WithRetry retries each activity call (map and reduce) per p.
func WithRetry(p orchestration.RetryPolicy) Option {
	return optionFunc(func(c *config) error {
		if p.MaxAttempts < 0 {
			return fmt.Errorf("analytics: WithRetry: MaxAttempts %d is negative", p.MaxAttempts)
		}
		c.Retry = &p
		return nil
	})
}

// WithStartToCloseTimeout bounds each attempt of each activity call.
func WithStartToCloseTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d < 0 {
			return fmt.Errorf("analytics: WithStartToCloseTimeout(%s): negative", d)
		}
		c.StartToClose = d
		return nil
	})
}

// MaxItemsPerOrchestration runs a map of more than n items as
// sub-orchestrations of at most n items each (nested when there are more
// than n of those), so no history holds more than about n calls. The
// sub-orchestrator must be registered: see MapOrchestrator,
// MapReduceOrchestrator and MapReduceByKeyOrchestrator. 0, the default,
// never splits.
func MaxItemsPerOrchestration(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 || n == 1 {
			return fmt.Errorf("analytics: MaxItemsPerOrchestration(%d): want 0 (no bound) or at least 2", n)
		}
		c.MaxItems = n
		return nil
	})
}

// WithFanIn sets how many partial results one reduce call combines (at
// least 2; default DefaultFanIn). Map ignores it.
func WithFanIn(k int) Option {
	return optionFunc(func(c *config) error {
		if k < 2 {
			return fmt.Errorf("analytics: WithFanIn(%d): want at least 2", k)
		}
		c.FanIn = k
		return nil
	})
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
	return optionFunc(func(c *config) error {
		if fn == nil {
			return errors.New("analytics: WithProgress(nil)")
		}
		c.progress = fn
		return nil
	})
}
