// Command refinery-worker drains the wheel retry/build queue, builds each
// request in a container (or the stub) and reports every outcome.
//
//	refinery-worker [serve]   HTTP control endpoints + autorun (default)
//	refinery-worker drain     drain the queue once, print outcomes and totals
//	refinery-worker enqueue   add items (flags, or JSON lines on stdin)
//	refinery-worker config    print the effective configuration, secrets redacted
//	refinery-worker status    print the /status of a running worker
//	refinery-worker plan      plan a requirements file and write plan.json
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/refinery/refinery-worker/adapters/memguard"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/internal/config"
)

// Config is the worker's configuration (internal/config), named here so the
// wiring reads cfg Config.
type Config = config.Config

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr))
}

// exit codes
const (
	exitOK     = 0
	exitFailed = 1 // the worker itself failed
	exitUsage  = 2 // bad flags or configuration
)

func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd, args, code, done := program.Parse(args, stdout, stderr)
	if done {
		return code
	}
	cfg, err := config.Load(environ)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if cmd == "serve" || cmd == "drain" {
		memguard.Start(ctx, int64(cfg.MemorySoftLimit), environ, 5*time.Second, log)
	}
	switch cmd {
	case "serve":
		err = serve(ctx, cfg, log, environ)
	case "drain":
		err = drainOnce(ctx, cfg, log, stdout, environ)
	case "enqueue":
		err = enqueue(ctx, cfg, log, args, stdin, stdout)
	case "config":
		err = printConfig(cfg, stdout)
	case "status":
		err = handlers.PrintStatus(ctx, cfg.WorkerHTTPAddr, cfg.WorkerToken, stdout)
	case "plan":
		err = planCommand(ctx, cfg, log, args, stdout)
	case "replay":
		err = replayCommand(ctx, cfg, log, args, stdout)
	case "index":
		err = indexCommand(ctx, cfg, log, args, stdout)
	default:
		fmt.Fprintf(stderr, "unknown command %q\n%s\n", cmd, program.Usage())
		return exitUsage
	}
	if err != nil {
		var ue *usageError
		var se *startupError
		if errors.As(err, &ue) || errors.As(err, &se) {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		log.Error("refinery-worker failed", "command", cmd, "err", err)
		return exitFailed
	}
	return exitOK
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// startupError is a worker that could not start (a directory, the queue, a
// file it keeps): a message and exit code 2, like a bad configuration.
type startupError struct{ err error }

func (e *startupError) Error() string { return "refinery-worker cannot start: " + e.err.Error() }
func (e *startupError) Unwrap() error { return e.err }

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts)).With("worker_id", cfg.WorkerID)
}
