// Package samplekit is the plumbing the runnable samples share: the
// default database path, an embedded engine with a started worker, quiet
// logging, and the closing hint on where the history is stored.
//
// It is internal to the samples: application code wires engine and worker
// itself (see engine/embedded and worker), in about the same few lines.
package samplekit

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/cloudbutton/cloudbutton"
	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// DefaultDB returns the default database file of a sample:
// cloudbutton-<sample>.db in os.TempDir().
func DefaultDB(sample string) string {
	return filepath.Join(os.TempDir(), "cloudbutton-"+sample+".db")
}

// EngineFlags pick the engine a sample runs on.
type EngineFlags struct {
	// Engine is "embedded" (the default) or "temporal".
	Engine string
	// DB is the SQLite file of the embedded engine.
	DB string
	// Address and TaskQueue reach a Temporal cluster.
	Address, TaskQueue string
}

// AddEngineFlags registers --engine, --db, --address and --task-queue.
func AddEngineFlags(fs *flag.FlagSet, sample string) *EngineFlags {
	f := &EngineFlags{}
	fs.StringVar(&f.Engine, "engine", "embedded", "engine: embedded (a SQLite file) or temporal")
	fs.StringVar(&f.DB, "db", DefaultDB(sample), "embedded: SQLite file of the engine")
	fs.StringVar(&f.Address, "address", "127.0.0.1:7233", "temporal: frontend address")
	fs.StringVar(&f.TaskQueue, "task-queue", "cloudbutton-"+sample, "temporal: task queue")
	return f
}

// Options says what a Runtime hosts.
type Options struct {
	EngineFlags
	// Orchestrators and Activities are registered on the worker.
	Orchestrators []orchestration.Definition
	Activities    []activity.Definition
	// Worker configures the worker (its Logger defaults to Logger).
	Worker worker.Options
	// Logger receives engine and worker logs (default: warnings and
	// errors to stderr).
	Logger *slog.Logger
	// PollInterval is how often the worker looks for work written by
	// other processes, such as an event raised from the CLI (default
	// the engine's).
	PollInterval time.Duration
	// MaxPayload bounds every payload in bytes (default the engine's).
	MaxPayload int
}

// Runtime is an engine with a running worker.
type Runtime struct {
	// Client reaches the engine.
	Client client.Client
	// Engine is the embedded engine (nil on Temporal).
	Engine *embedded.Engine
	Worker *worker.Worker
	flags  EngineFlags
	close  func() error
}

// Start opens the engine's database, registers the definitions and starts
// the worker. Close it when done.
func Start(ctx context.Context, o Options) (*Runtime, error) {
	if o.Logger == nil {
		o.Logger = QuietLogger(os.Stderr)
	}
	if o.Worker.Logger == nil {
		o.Worker.Logger = o.Logger
	}
	rt := &Runtime{flags: o.EngineFlags}
	var address, hint string
	switch o.Engine {
	case "", "embedded":
		if o.DB == "" {
			return nil, errors.New("samplekit: no database path (--db)")
		}
		if dir := filepath.Dir(o.DB); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("creating the directory of --db %s: %w", o.DB, err)
			}
		}
		address, hint = "sqlite:"+o.DB, "opening --db "+o.DB
		if o.PollInterval > 0 {
			address += "?poll-interval=" + o.PollInterval.String()
		}
	case "temporal":
		address = "temporal://" + o.Address + "/default?task-queue=" + url.QueryEscape(o.TaskQueue)
		hint = "connecting to Temporal at --address " + o.Address + " (start one with: temporal server start-dev --ip 127.0.0.1)"
	default:
		return nil, fmt.Errorf("--engine %q: want embedded or temporal", o.Engine)
	}
	eng, err := cloudbutton.Open(ctx, address, cloudbutton.Options{Logger: o.Logger, MaxPayload: o.MaxPayload})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", hint, err)
	}
	rt.Client, rt.close = eng, eng.Close
	rt.Engine, _ = eng.(*embedded.Engine)
	w := worker.New(eng, o.Worker)
	w.RegisterOrchestrators(o.Orchestrators...)
	w.RegisterActivities(o.Activities...)
	if err := w.Start(ctx); err != nil {
		_ = rt.close()
		return nil, fmt.Errorf("starting the worker: %w", err)
	}
	rt.Worker = w
	return rt, nil
}

// Close stops the worker (waiting up to ten seconds for work in flight)
// and closes the engine.
func (r *Runtime) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	werr := r.Worker.Stop(ctx)
	return errors.Join(werr, r.close())
}

// PrintHistoryHint prints where the history of instance id is stored and
// how to see it.
func (r *Runtime) PrintHistoryHint(w io.Writer, id string) {
	if r.Engine == nil {
		fmt.Fprintf(w, "history stored in Temporal at %s; inspect with: temporal workflow show --address %s --workflow-id %s\n",
			r.flags.Address, r.flags.Address, id)
		return
	}
	PrintHistoryHint(w, r.Engine.Path(), id)
}

// QuietLogger logs warnings and errors as text to w.
func QuietLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// InstanceID returns a fresh, readable instance id: prefix, the UTC time
// and a random suffix, e.g. "saga-20260102-150405-3f9a".
func InstanceID(prefix string) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%s-%x", prefix, time.Now().UTC().Format("20060102-150405"), b)
}

// PrintHistoryHint prints where the history of instance id is stored and
// the CLI command that shows it.
func PrintHistoryHint(w io.Writer, db, id string) {
	if abs, err := filepath.Abs(db); err == nil {
		db = abs
	}
	fmt.Fprintf(w, "history stored in %s; inspect with: go run ./cmd/cloudbutton --db %s history %s\n", db, db, id)
}

// RunFunc is a sample's body: flags from args, output to stdout and
// stderr, canceled on interrupt.
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Main runs a sample's body with os.Args and exits: 0 on success, 2 for
// -h, 1 with the error printed otherwise.
func Main(name string, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
		os.Exit(0)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	}
	fmt.Fprintln(os.Stderr, name+":", err)
	os.Exit(1)
}
