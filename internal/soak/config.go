package soak

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/orchestration"
)

// Sizes scale the workloads. Every field must be positive (Validate).
type Sizes struct {
	FanOut       int // activities of a fan-out
	Sequence     int // steps of a sequence
	Events       int // events raised to a waiter, one after the other
	Children     int // sub-orchestrations of a parent
	ChildSize    int // steps (sequence) or activities (fan-out) of a child
	Generations  int // runs of a continue-as-new instance, one event each
	Timers       int // timers of a timers instance
	Retries      int // flaky activities of a retry instance
	SuspendSteps int // steps of a suspend instance on either side of its event
	// SleepMS is how long the activities of sequences, children and
	// suspend instances take: a kill finds some in flight.
	SleepMS int
}

// DefaultSizes are the campaign's sizes: fan-outs of 1,000, sequences of
// 200, 10-event waiters, parents of 6, 8 generations.
func DefaultSizes() Sizes {
	return Sizes{FanOut: 1000, Sequence: 200, Events: 10, Children: 6, ChildSize: 20, Generations: 8,
		Timers: 6, Retries: 10, SuspendSteps: 10, SleepMS: 1}
}

// SmallSizes are sizes for a short soak (CI): every primitive, little of
// each.
func SmallSizes() Sizes {
	return Sizes{FanOut: 100, Sequence: 20, Events: 10, Children: 3, ChildSize: 5, Generations: 4,
		Timers: 4, Retries: 4, SuspendSteps: 4, SleepMS: 1}
}

// Validate names the first size that is not positive.
func (s Sizes) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"fan-out", s.FanOut}, {"sequence", s.Sequence}, {"events", s.Events}, {"children", s.Children},
		{"child size", s.ChildSize}, {"generations", s.Generations}, {"timers", s.Timers},
		{"retries", s.Retries}, {"suspend steps", s.SuspendSteps}} {
		if f.v <= 0 {
			return fmt.Errorf("soak: %s size %d is not positive", f.name, f.v)
		}
	}
	if s.SleepMS < 0 {
		return fmt.Errorf("soak: activity sleep %d ms is negative", s.SleepMS)
	}
	return nil
}

// config is what the children of a soak read from its directory.
type config struct {
	Seed     uint64        `json:"seed"`
	Sizes    Sizes         `json:"sizes"`
	Loaders  int           `json:"loaders"`
	InFlight int           `json:"inFlight"`
	Poll     time.Duration `json:"poll"`
}

// Files of a soak directory.
const (
	configFile = "soak.json"
	dbFile     = "soak.db"
	execFile   = "executions.log"
	workerLog  = "worker.log"
)

func loaderLog(i int) string    { return fmt.Sprintf("loader-%d.log", i) }
func loaderStderr(i int) string { return fmt.Sprintf("loader-%d.err", i) }

func (c config) write(dir string) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, configFile), data, 0o644)
}

func readConfig(dir string) (config, error) {
	var c config
	data, err := os.ReadFile(filepath.Join(dir, configFile))
	if err != nil {
		return c, fmt.Errorf("soak: %w", err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("soak: %s: %w", configFile, err)
	}
	return c, nil
}

// topKinds are the workloads the loaders start (the others are children).
var topKinds = []*orchestration.Orchestrator[Spec, Result]{
	FanOut, Sequence, Timers, Waiter, Parent, ContinueAsNew, Retry, Terminate, Suspend,
}

// orchestratorOf returns the workload orchestrator named kind.
func orchestratorOf(kind string) *orchestration.Orchestrator[Spec, Result] {
	for _, o := range append(topKinds, Sleeper) {
		if o.Name() == kind {
			return o
		}
	}
	return nil
}

// planner draws a loader's instances from the seed: every kind once per
// round, in a shuffled order, each with its own seed.
type planner struct {
	c      config
	loader int
	rng    *rand.Rand
	round  []*orchestration.Orchestrator[Spec, Result]
	seq    int
}

func newPlanner(c config, loader int) *planner {
	return &planner{c: c, loader: loader, rng: rand.New(rand.NewPCG(c.Seed, 0x10ad+uint64(loader)))}
}

func (p *planner) next() (o *orchestration.Orchestrator[Spec, Result], id string, s Spec) {
	if len(p.round) == 0 {
		p.round = append(p.round, topKinds...)
		p.rng.Shuffle(len(p.round), func(i, j int) { p.round[i], p.round[j] = p.round[j], p.round[i] })
	}
	o, p.round = p.round[0], p.round[1:]
	z := p.c.Sizes
	s = Spec{Seed: p.rng.Uint64() & mask}
	switch o {
	case FanOut:
		s.N = z.FanOut
	case Sequence:
		s.N, s.SleepMS = z.Sequence, z.SleepMS
	case Timers:
		s.N = z.Timers
	case Waiter:
		s.N = z.Events
	case Parent:
		s.N, s.M, s.SleepMS = z.Children, z.ChildSize, z.SleepMS
	case ContinueAsNew:
		s.N = z.Generations
	case Retry:
		s.N = z.Retries
	case Suspend:
		s.M, s.SleepMS = z.SuspendSteps, z.SleepMS
	}
	id = fmt.Sprintf("%s-l%d-%d", strings.TrimPrefix(o.Name(), "soak."), p.loader, p.seq)
	p.seq++
	return o, id, s
}
