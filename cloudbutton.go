// Package cloudbutton opens an engine by configuration, so that the same
// application code runs on the embedded engine or on Temporal:
//
//	eng, err := cloudbutton.Open(ctx, os.Getenv("CLOUDBUTTON_ENGINE"), cloudbutton.Options{})
//	// "sqlite:app.db" or "temporal://127.0.0.1:7233/default?task-queue=orders"
//	defer eng.Close()
//	w := worker.New(eng, worker.Options{})
//	w.RegisterOrchestrators(WordCount)
//	w.RegisterActivities(CountWords)
//	err = w.Start(ctx)
//	id, err := client.Start(ctx, eng, WordCount, job)
//
// Both engines have the same shape (Engine): a client.Client, a
// worker.Engine, and Close, which stops the workers running on the engine
// and then releases it.
package cloudbutton

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Engine is what Open returns, whatever the engine.
type Engine interface {
	client.Client
	worker.Engine
	// Close stops the engine's workers and releases the engine.
	Close() error
}

var (
	_ Engine = (*embedded.Engine)(nil)
	_ Engine = (*temporal.Engine)(nil)
)

// Options are the settings every engine shares. The zero value is usable.
type Options struct {
	// Logger receives the engine's logs (default slog.Default()).
	Logger *slog.Logger
	// Codec encodes payloads (default codec.JSON).
	Codec codec.Codec
	// MaxPayload bounds every payload in bytes (default
	// codec.DefaultMaxPayload).
	MaxPayload int
}

// ErrAddress is matched by Open's errors about the address itself.
var ErrAddress = errors.New("cloudbutton: bad engine address")

// Forms lists the addresses Open accepts.
const Forms = `sqlite:PATH[?durability=process-crash|power-loss&poll-interval=DURATION&check-names=true] ` +
	`or temporal://HOST:PORT[/NAMESPACE][?task-queue=QUEUE&check-names=true]`

// Open opens the engine that address names (see Forms):
//
//   - sqlite:PATH — the embedded engine on a SQLite file, created if
//     missing (also sqlite://PATH, and sqlite:///abs/path);
//   - temporal://HOST:PORT/NAMESPACE — Temporal (namespace "default" and
//     task queue "cloudbutton" unless given).
func Open(ctx context.Context, address string, opts Options) (Engine, error) {
	cfg, err := parse(address)
	if err != nil {
		return nil, err
	}
	switch cfg.scheme {
	case "sqlite":
		return embedded.Open(ctx, cfg.path, embedded.Options{Durability: cfg.durability, Codec: opts.Codec,
			MaxPayload: opts.MaxPayload, PollInterval: cfg.pollInterval, Logger: opts.Logger, CheckNames: cfg.checkNames})
	default:
		return temporal.Open(ctx, temporal.Options{HostPort: cfg.hostPort, Namespace: cfg.namespace, TaskQueue: cfg.taskQueue,
			Codec: opts.Codec, Limits: codec.Limits{MaxPayload: opts.MaxPayload}, Logger: opts.Logger, CheckNames: cfg.checkNames})
	}
}

// config is a parsed address.
type config struct {
	scheme       string
	path         string
	durability   embedded.Durability
	pollInterval time.Duration
	hostPort     string
	namespace    string
	taskQueue    string
	checkNames   bool
}

func parse(address string) (config, error) {
	bad := func(format string, args ...any) (config, error) {
		return config{}, fmt.Errorf("%w %q: %s; want %s", ErrAddress, address, fmt.Sprintf(format, args...), Forms)
	}
	scheme, rest, ok := strings.Cut(address, ":")
	if !ok {
		return bad("no scheme")
	}
	// The path of a database file is taken as is (it may hold % or #);
	// only the query is decoded.
	path, rawQuery, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return bad("%v", err)
	}
	cfg := config{scheme: scheme}
	if v := q.Get("check-names"); v != "" {
		if cfg.checkNames, err = strconv.ParseBool(v); err != nil {
			return bad("check-names=%q is not a boolean", v)
		}
	}
	switch scheme {
	case "sqlite":
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return bad("no database path")
		}
		cfg.path = path
		switch d := q.Get("durability"); d {
		case "", "process-crash":
		case "power-loss":
			cfg.durability = embedded.PowerLoss
		default:
			return bad("durability=%q", d)
		}
		if v := q.Get("poll-interval"); v != "" {
			if cfg.pollInterval, err = time.ParseDuration(v); err != nil || cfg.pollInterval <= 0 {
				return bad("poll-interval=%q is not a positive duration", v)
			}
		}
	case "temporal":
		u, err := url.Parse(address)
		if err != nil {
			return bad("%v", err)
		}
		if _, _, err := net.SplitHostPort(u.Host); err != nil || u.Port() == "" {
			return bad("want HOST:PORT after temporal://")
		}
		if _, err := strconv.ParseUint(u.Port(), 10, 16); err != nil {
			return bad("port %q is not a number", u.Port())
		}
		cfg.hostPort = u.Host
		cfg.namespace = strings.Trim(u.Path, "/")
		if cfg.namespace == "" {
			cfg.namespace = "default"
		}
		if strings.Contains(cfg.namespace, "/") {
			return bad("namespace %q has a slash", cfg.namespace)
		}
		cfg.taskQueue = q.Get("task-queue")
		if cfg.taskQueue == "" {
			cfg.taskQueue = "cloudbutton"
		}
	default:
		return bad("unknown scheme %q", scheme)
	}
	return cfg, nil
}
