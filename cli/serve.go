package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudbutton/cloudbutton/internal/loopback"
	"github.com/cloudbutton/cloudbutton/server"
)

// serveShutdown bounds the graceful shutdown of serve's HTTP server.
const serveShutdown = 10 * time.Second

func newServeCmd(cfg *engineConfig, r Registrations) *cobra.Command {
	var addr, token, temporalDev string
	var withWorker bool
	var wf workerFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API and the dashboard for an engine, optionally with a worker",
		Long: `Serve the HTTP management API (under /api/v1, described at
/api/v1/openapi.json) and the web dashboard (at /) for the engine, until
interrupted (Ctrl-C stops it gracefully), and print its URL.

It listens on 127.0.0.1:8233 by default. Any other address that is not a
loopback one needs a token: --token (or CLOUDBUTTON_TOKEN), or else one is
generated and printed in the URL. With a token, every API call and page
needs it: "Authorization: Bearer TOKEN", or ?token=TOKEN once in a browser.

--worker also runs a worker for the orchestrators and activities this
program registers. --temporal dev starts a Temporal dev server with the
recommended local settings (the temporal CLI must be installed), serves it
with a worker, and stops it all on Ctrl-C; its data goes with it.

` + r.describe(),
		Example: `  cloudbutton serve --db app.db
  cloudbutton serve --db app.db --worker
  cloudbutton serve --temporal dev
  cloudbutton serve --engine temporal --address 127.0.0.1:7233 --addr 0.0.0.0:8233   # prints a generated token
  curl -H "Authorization: Bearer $TOKEN" http://HOST:8233/api/v1/instances`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if !cmd.Flags().Changed("token") {
				token = os.Getenv("CLOUDBUTTON_TOKEN") // not the flag's default: --help would print it
			}
			tok, err := serveToken(addr, token)
			if err != nil {
				return err
			}
			hasRegs := len(r.Orchestrators) > 0 || len(r.Activities) > 0
			switch temporalDev {
			case "":
			case "dev":
				if cmd.Flags().Changed("engine") && cfg.engine != "temporal" {
					return withCode(ExitUsage, fmt.Errorf("--temporal dev serves Temporal, not --engine %s", cfg.engine))
				}
				srv, err := startDevServer(ctx, cmd)
				if err != nil {
					return err
				}
				defer srv.Stop()
				cfg.engine, cfg.address, cfg.namespace = "temporal", srv.HostPort, srv.Namespace
				withWorker = hasRegs
				if !hasRegs {
					fmt.Fprintln(cmd.ErrOrStderr(), "no worker: this program registers no orchestrators and no activities")
				}
			default:
				return withCode(ExitUsage, fmt.Errorf("--temporal %q: want dev (or serve a running server with --engine temporal --address)", temporalDev))
			}
			if withWorker && !hasRegs {
				return withCode(ExitUsage, errNothingToHost)
			}
			if err := wf.check(); err != nil {
				return err
			}
			// As the start command: refuse names the last worker lacks.
			cfg.checkNames = true
			return withEngine(cmd, cfg, withWorker, func(ctx context.Context, e engine) (err error) {
				if withWorker {
					stop, err := wf.start(ctx, cmd, e, r)
					if err != nil {
						return err
					}
					// After the HTTP server: no request runs on a stopped worker.
					defer func() { err = errors.Join(err, stop(context.Background())) }()
				}
				l, err := net.Listen("tcp", addr)
				if err != nil {
					return fmt.Errorf("serve: %w", err)
				}
				log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
				h := server.New(e, server.Options{Token: tok, Logger: log})
				what := "the API and the dashboard"
				if withWorker {
					what += ", and a worker,"
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "serving %s for %s; Ctrl-C to stop\n", what, cfg.describe())
				fmt.Fprintln(cmd.OutOrStdout(), serveURL(l.Addr(), tok))
				return serveUntilDone(ctx, l, h, log)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8233", "listen address (not loopback: a token is required)")
	f.StringVar(&token, "token", "", "bearer token every request needs (env CLOUDBUTTON_TOKEN; generated for a non-loopback --addr)")
	f.BoolVar(&withWorker, "worker", false, "also run a worker for this program's registrations")
	f.StringVar(&temporalDev, "temporal", "", `"dev": start a Temporal dev server and serve it, with a worker`)
	wf.addFlags(f) // the worker's

	return cmd
}

// serveToken returns the token to serve with: the given one, a new one
// for an address that is not loopback, or none.
func serveToken(addr, token string) (string, error) {
	if token != "" || loopback.HostPort(addr) {
		return token, nil
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("serve: generate a token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// serveURL is the URL to print: the listener's address (this machine's
// name for every interface), with the token as a browser's ?token=.
func serveURL(a net.Addr, token string) string {
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
		if name, err := os.Hostname(); err == nil && name != "" {
			host = name
		}
	}
	u := "http://" + net.JoinHostPort(host, port) + "/"
	if token != "" {
		u += "?token=" + token
	}
	return u
}

// serveUntilDone serves h on l until ctx ends, then shuts down gracefully:
// requests in flight, long-polls included, see their context cancelled
// and get their answers; connections still open after serveShutdown are
// closed.
func serveUntilDone(ctx context.Context, l net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: /wait long-polls for up to its maximum (5m).
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), serveShutdown)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		return errors.Join(err, serr)
	}
	return err
}
