package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/refinery/refinery-worker/adapters/replaysource"
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
		return &usageError{fmt.Sprintf("replay: %v", err)}
	}
	if o.Stage == "" || o.From == "" {
		return &usageError{"replay: --stage and --from are required"}
	}
	if cfg.PipelineTransport == "memory" {
		return &usageError{"replay: PIPELINE_TRANSPORT=memory keeps no topic to re-read; stage-level replay needs redis or kafka"}
	}
	if _, _, err := replay.InputTopic(o.Stage); err != nil {
		return &usageError{fmt.Sprintf("replay: %v", err)}
	}
	w := &worker{cfg: cfg, log: log}
	defer w.closeAll()
	t, err := w.openTransport(ctx)
	if err != nil {
		return err
	}
	var src replay.Source
	switch cfg.PipelineTransport {
	case "redis":
		ropts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("replay: REDIS_URL: %w", err)
		}
		client := redis.NewClient(ropts)
		defer client.Close()
		src = replaysource.RedisSource{Client: client}
	case "kafka":
		src = replaysource.KafkaSource{Brokers: cfg.KafkaBrokers}
	}
	o.Out = out
	st, err := replay.Run(ctx, t, src, o)
	if err != nil {
		return fmt.Errorf("replay %s: %w", o.Stage, err)
	}
	if o.DryRun {
		fmt.Fprintf(out, "replay %s (dry run): read %d, would publish %d\n", o.Stage, st.Read, st.Matched)
		return nil
	}
	fmt.Fprintf(out, "replay %s: read %d, matched %d, published %d\n", o.Stage, st.Read, st.Matched, st.Published)
	return nil
}
