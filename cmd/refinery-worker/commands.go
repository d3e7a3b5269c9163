package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/refinery/refinery-worker/adapters/filequeue"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/internal/cli"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/planner"
)

// serve runs the HTTP endpoints and the autorun loop until ctx ends, then
// shuts down within SHUTDOWN_GRACE.
func serve(ctx context.Context, cfg Config, log *slog.Logger, environ []string) error {
	w, err := newWorker(ctx, cfg, log, workerOptions{environ: environ, continuous: true})
	if err != nil {
		return err
	}
	if err := w.start(ctx); err != nil {
		_ = w.shutdown(0)
		return err
	}
	log.Info("refinery-worker serving", "addr", cfg.WorkerHTTPAddr, "queue_backend", cfg.QueueBackend,
		"transport", cfg.PipelineTransport, "autorun", cfg.WorkerAutorunInterval.String())
	w.planSvc.StartPoller(ctx)
	err = w.life.Serve(ctx, handlers.Server{Echo: w.http, Addr: cfg.WorkerHTTPAddr, ShutdownTimeout: 5 * time.Second}.Run,
		cfg.WorkerAutorunInterval.D(), cfg.ShutdownGrace.D())
	return errors.Join(err, w.closeAll())
}

// drainOnce drains the queue once, printing a line per outcome and totals.
// It fails only when the worker itself failed, not when builds did.
func drainOnce(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer, environ []string) error {
	printer := pipeline.NewSummaryPrinter(out)
	w, err := newWorker(ctx, cfg, log, workerOptions{environ: environ, onSettled: printer.Settled})
	if err != nil {
		return printer.Finish(nil, err)
	}
	if err := w.start(ctx); err != nil {
		_ = w.shutdown(0)
		return printer.Finish(nil, err)
	}
	d, err := w.life.DrainOnce(ctx, cfg.ShutdownGrace.D())
	return printer.Finish(d, errors.Join(err, w.closeAll()))
}

// enqueueFlags are the flags of enqueue, bound to it and recipes.
func enqueueFlags(it *pipeline.Item, recipes *string) *flag.FlagSet {
	fs := flag.NewFlagSet("enqueue", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&it.Package, "package", "", "package name (omit to read JSON lines from stdin)")
	fs.StringVar(&it.Version, "version", "", "version")
	fs.StringVar(&it.PythonVersion, "python-version", "", "python version")
	fs.StringVar(&it.PythonTag, "python-tag", "", "python tag")
	fs.StringVar(&it.PlatformTag, "platform-tag", "", "platform tag")
	fs.StringVar(recipes, "recipes", "", "comma-separated recipes")
	fs.IntVar(&it.Attempts, "attempts", 0, "earlier attempts")
	return fs
}

// enqueue adds items to the file intake: one from flags, or JSON lines from
// stdin (the control-plane's item format; each line must be a JSON value).
func enqueue(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdin io.Reader, out io.Writer) error {
	var it pipeline.Item
	var recipes string
	fs := enqueueFlags(&it, &recipes)
	if err := fs.Parse(args); err != nil {
		return cli.Usagef("enqueue: %v", err)
	}
	if cfg.QueueBackend != "file" {
		return cli.Usagef("enqueue: QUEUE_BACKEND=%s is not supported by enqueue yet (file only)", cfg.QueueBackend)
	}
	items, err := pipeline.EnqueueInput(it, recipes, stdin)
	var bad *pipeline.InputError
	if errors.As(err, &bad) {
		return cli.Usagef("enqueue: %v", bad)
	} else if err != nil {
		return err
	}
	if err := filequeue.EnqueueOnce(ctx, filequeue.Options{Path: cfg.QueueFile, Owner: cfg.WorkerID + "-enqueue", Logger: log,
		MaxBytes: int64(cfg.QueueFileMaxBytes)}, items); err != nil {
		return err
	}
	fmt.Fprintf(out, "enqueued %d item(s) to %s\n", len(items), cfg.QueueFile)
	return nil
}

// planFlags are the flags of plan; path holds the default on entry.
func planFlags(path *string) *flag.FlagSet {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(path, "requirements", *path, "requirements file (default REQUIREMENTS_PATH)")
	return fs
}

// planCommand plans a requirements file (REQUIREMENTS_PATH or --requirements),
// writes OUTPUT_DIR/plan.json and prints a table.
func planCommand(ctx context.Context, cfg Config, log *slog.Logger, args []string, out io.Writer) error {
	path := cfg.RequirementsPath
	fs := planFlags(&path)
	if err := fs.Parse(args); err != nil {
		return cli.Usagef("plan: %v", err)
	}
	if path == "" {
		return cli.Usagef("plan: give --requirements FILE or set REQUIREMENTS_PATH")
	}
	return planService(cfg, log, planner.ServiceOptions{}).Print(ctx, path, out)
}
