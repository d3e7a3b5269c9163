package main

import (
	"flag"

	"github.com/refinery/refinery-worker/internal/cli"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/replay"
)

// program is the command line: each subcommand with its one-line summary
// (usage and help) and flags.
var program = cli.Program{Name: "refinery-worker", Default: "serve",
	Footer: "Configuration comes from the environment; see README.md",
	Commands: []cli.Command{
		{Name: "serve", Summary: "run the HTTP control endpoints and consume the queue continuously (default)"},
		{Name: "drain", Summary: "drain the queue once; one line per outcome, then totals"},
		{Name: "enqueue", Summary: "add items to the intake: --package NAME [--version V ...], or JSON lines on stdin",
			Flags: enqueueHelp},
		{Name: "config", Summary: "print the effective configuration, secrets redacted"},
		{Name: "status", Summary: "print the /status of the worker serving on WORKER_HTTP_ADDR"},
		{Name: "plan", Summary: "plan a requirements file (--requirements or REQUIREMENTS_PATH), write plan.json, print a table",
			Flags: planHelp},
		{Name: "replay", Summary: "--stage S --from X [--to Y] [--package P] [--dry-run]: re-run a stage from its input topic (redis/kafka transports)",
			Flags: replayHelp},
		{Name: "index", Args: true,
			Summary: "rebuild | verify: regenerate OUTPUT_DIR/simple from its wheels / check every hash (exit 1 on a mismatch)"},
	}}

func enqueueHelp() *flag.FlagSet { return enqueueFlags(new(pipeline.Item), new(string)) }
func planHelp() *flag.FlagSet    { return planFlags(new(string)) }
func replayHelp() *flag.FlagSet  { return replayFlags(new(replay.Options)) }
