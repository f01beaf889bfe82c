package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cloudbutton/cloudbutton"
)

// engineConfig holds the flags that pick and reach an engine.
type engineConfig struct {
	engine    string
	db        string
	address   string
	namespace string
	taskQueue string
	// checkNames refuses starts of names the last worker does not
	// register (start, unless --any-name).
	checkNames bool
}

func (c *engineConfig) addFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	db := os.Getenv("CLOUDBUTTON_DB")
	if db == "" {
		db = "cloudbutton.db"
	}
	f.StringVar(&c.engine, "engine", "embedded", "engine: embedded (a SQLite file) or temporal")
	f.StringVar(&c.db, "db", db, "embedded engine: database file (env CLOUDBUTTON_DB)")
	f.StringVar(&c.address, "address", "127.0.0.1:7233", "temporal: frontend address")
	f.StringVar(&c.namespace, "namespace", "default", "temporal: namespace")
	f.StringVar(&c.taskQueue, "task-queue", "cloudbutton", "temporal: task queue")
}

// engine is what the CLI needs from an engine.
type engine = cloudbutton.Engine

// open opens the configured engine, which logs warnings and errors to
// logs. For the embedded engine, the database must exist unless create is
// set (a typo in --db is an error, not a new empty file).
func (c *engineConfig) open(ctx context.Context, create bool, logs io.Writer) (engine, error) {
	quiet := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	switch c.engine {
	case "embedded":
		if !create {
			if _, err := os.Stat(c.db); err != nil {
				return nil, withCode(ExitError, fmt.Errorf("database %s: %w (set --db or CLOUDBUTTON_DB)", c.db, err))
			}
		}
		return cloudbutton.Open(ctx, "sqlite:"+c.db+"?check-names="+strconv.FormatBool(c.checkNames), cloudbutton.Options{Logger: quiet})
	case "temporal":
		return cloudbutton.Open(ctx, "temporal://"+c.address+"/"+url.PathEscape(c.namespace)+"?task-queue="+url.QueryEscape(c.taskQueue), cloudbutton.Options{Logger: quiet})
	}
	return nil, withCode(ExitUsage, fmt.Errorf("--engine %q: want embedded or temporal", c.engine))
}
