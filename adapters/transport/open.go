package transport

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// OpenOptions selects and configures the stages' transport.
type OpenOptions struct {
	// Kind is PIPELINE_TRANSPORT: memory (in process, the default when
	// empty), redis or kafka.
	Kind string
	// RedisURL and Brokers address the broker of Kind.
	RedisURL string
	Brokers  []string
	// Prefix, ClaimIdle, Holds and Logger are as in RedisOptions and
	// KafkaOptions.
	Prefix    string
	ClaimIdle time.Duration
	Holds     []Hold
	Logger    *slog.Logger
}

// Open connects the stages over o.Kind; the close function is nil in
// process. The consumer name is the transport's default
// (<host>-<pid>-<random>: unique even for pid 1 in containers).
func Open(ctx context.Context, o OpenOptions) (pipeline.Transport, func() error, error) {
	var (
		t       pipeline.Transport
		closeFn func() error
		err     error
	)
	switch o.Kind {
	case "", "memory":
		return InProcess(), nil, nil
	case "redis":
		t, closeFn, err = Redis(ctx, RedisOptions{URL: o.RedisURL, Prefix: o.Prefix, ClaimIdle: o.ClaimIdle, Holds: o.Holds, Logger: o.Logger})
	case "kafka":
		t, closeFn, err = Kafka(ctx, KafkaOptions{Brokers: o.Brokers, Prefix: o.Prefix, ClaimIdle: o.ClaimIdle, Holds: o.Holds, Logger: o.Logger})
	default:
		return t, nil, fmt.Errorf("transport %q: want memory, redis or kafka", o.Kind)
	}
	if err != nil {
		return t, nil, fmt.Errorf("%s transport: %w", o.Kind, err)
	}
	return t, closeFn, nil
}
