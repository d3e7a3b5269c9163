// Command refinery-worker drains the wheel retry/build queue, builds each
// request in a container (or the stub) and reports every outcome. Its
// subcommands are listed by `refinery-worker help` (help.go); its
// configuration, from the environment, is internal/config.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/refinery/refinery-worker/adapters/gomonitor"
	"github.com/refinery/refinery-worker/adapters/memguard"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/internal/cli"
	"github.com/refinery/refinery-worker/internal/config"
)

// Config is the worker's configuration (internal/config), named here so the
// wiring reads cfg Config.
type Config = config.Config

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd, args, code, done := program.Parse(args, stdout, stderr)
	if done {
		return code
	}
	cfg, err := config.Load(environ)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return cli.ExitUsage
	}
	log := cfg.Logger(stderr)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if cmd == "serve" || cmd == "drain" {
		tuneRuntime(ctx, cfg, environ, log)
	}
	switch cmd {
	case "serve":
		err = serve(ctx, cfg, log, environ)
	case "drain":
		err = drainOnce(ctx, cfg, log, stdout, environ)
	case "enqueue":
		err = enqueue(ctx, cfg, log, args, stdin, stdout)
	case "config":
		err = cfg.WriteRedacted(stdout)
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
		return cli.ExitUsage
	}
	code, plain := cli.Exit(err)
	if plain {
		fmt.Fprintln(stderr, err)
	} else if err != nil {
		log.Error("refinery-worker failed", "command", cmd, "err", err)
	}
	return code
}

// tuneRuntime applies what serve and drain set in the Go runtime: the soft
// memory limit and GC percent (memguard, until ctx ends) and the monitor
// thread's timer slack (gomonitor). It returns a func that puts the slack
// back (the benchmarks that wire a worker as serve does use it).
func tuneRuntime(ctx context.Context, cfg Config, environ []string, log *slog.Logger) (restore func()) {
	memguard.Start(ctx, int64(cfg.MemorySoftLimit), environ, 5*time.Second, log)
	return gomonitor.Apply(time.Duration(cfg.MonitorTimerSlackUS)*time.Microsecond, log)
}
