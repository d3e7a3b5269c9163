package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/refinery/refinery-worker/adapters/replaysource"
	"github.com/refinery/refinery-worker/internal/cli"
	"github.com/refinery/refinery-worker/pipeline/replay"
)

// replayFlags are the flags of replay, bound to o.
func replayFlags(o *replay.Options) *flag.FlagSet {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.Stage, "stage", "", "dequeue|plan|match|build|report|requeue|poison")
	fs.StringVar(&o.From, "from", "", "start, a stream id or offset (partition:offset), or an RFC 3339 time")
	fs.StringVar(&o.To, "to", "", "end of the range (default: the end as the replay starts)")
	fs.StringVar(&o.Package, "package", "", "only messages about this package")
	fs.BoolVar(&o.DryRun, "dry-run", false, "list what would be replayed, publish nothing")
	return fs
}

// replayCommand re-publishes one stage's input messages in a range so that
// the serving workers process them again (stage-level replay, durable
// transports only).
func replayCommand(ctx context.Context, cfg Config, log *slog.Logger, args []string, out io.Writer) error {
	var o replay.Options
	fs := replayFlags(&o)
	if err := fs.Parse(args); err != nil {
		return cli.Usagef("replay: %v", err)
	}
	if err := o.Check(cfg.PipelineTransport); err != nil {
		return cli.Usagef("replay: %v", err)
	}
	w := &worker{cfg: cfg, log: log}
	defer w.closeAll()
	t, err := w.openTransport(ctx)
	if err != nil {
		return err
	}
	src, closeSrc, err := replaysource.Open(cfg.PipelineTransport, cfg.RedisURL, cfg.KafkaBrokers)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer closeSrc()
	o.Out = out
	st, err := replay.Run(ctx, t, src, o)
	if err != nil {
		return fmt.Errorf("replay %s: %w", o.Stage, err)
	}
	fmt.Fprintln(out, st.Summary(o.Stage, o.DryRun))
	return nil
}
