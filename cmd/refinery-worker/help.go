package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/replay"
)

// commandSummaries describe each subcommand in one line (usage and help).
var commandSummaries = map[string]string{
	"serve":   "run the HTTP control endpoints and consume the queue continuously (default)",
	"drain":   "drain the queue once; one line per outcome, then totals",
	"enqueue": "add items to the intake: --package NAME [--version V ...], or JSON lines on stdin",
	"config":  "print the effective configuration, secrets redacted",
	"status":  "print the /status of the worker serving on WORKER_HTTP_ADDR",
	"plan":    "plan a requirements file (--requirements or REQUIREMENTS_PATH), write plan.json, print a table",
	"index":   "rebuild | verify: regenerate OUTPUT_DIR/simple from its wheels / check every hash (exit 1 on a mismatch)",
	"replay":  "--stage S --from X [--to Y] [--package P] [--dry-run]: re-run a stage from its input topic (redis/kafka transports)",
}

// wantsHelp reports whether args ask for help (-h, -help, --help) before a
// "--" that ends the flags.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// commandFlags returns the flags of cmd, or nil for a command without flags.
func commandFlags(cmd string) *flag.FlagSet {
	switch cmd {
	case "enqueue":
		var it pipeline.Item
		var recipes string
		return enqueueFlags(&it, &recipes)
	case "plan":
		var path string
		return planFlags(&path)
	case "replay":
		var o replay.Options
		return replayFlags(&o)
	}
	return nil
}

// printHelp writes the help of cmd ("" for the whole program). It reports
// false for an unknown command.
func printHelp(out io.Writer, cmd string) bool {
	if cmd == "" {
		fmt.Fprintln(out, usage())
		return true
	}
	summary, ok := commandSummaries[cmd]
	if !ok {
		return false
	}
	fmt.Fprintf(out, "usage: refinery-worker %s [flags]\n\n  %s\n\n", cmd, summary)
	if fs := commandFlags(cmd); fs != nil {
		fmt.Fprintln(out, "flags:")
		fs.SetOutput(out)
		fs.PrintDefaults()
		fmt.Fprintln(out)
	} else {
		fmt.Fprintf(out, "%s takes no flags.\n\n", cmd)
	}
	fmt.Fprintln(out, "Configuration comes from the environment; see README.md (refinery-worker config prints it).")
	return true
}

// usage is the program's help: every subcommand with its summary.
func usage() string {
	names := make([]string, 0, len(commandSummaries))
	for n := range commandSummaries {
		names = append(names, n)
	}
	order := []string{"serve", "drain", "enqueue", "config", "status", "plan", "replay"}
	slices.SortFunc(names, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	var b strings.Builder
	fmt.Fprintf(&b, "usage: refinery-worker [%s] [flags]\n\n", strings.Join(names, "|"))
	for _, n := range names {
		fmt.Fprintf(&b, "  %-8s %s\n", n, commandSummaries[n])
	}
	b.WriteString("\nrefinery-worker COMMAND --help lists the flags of a command.\n")
	b.WriteString("Configuration comes from the environment; see README.md.")
	return b.String()
}
