// Package intake opens the queue a worker takes its items from
// (QUEUE_BACKEND): a file, a Redis list, a Kafka topic or the
// control-plane's build queue.
package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/filequeue"
	"github.com/refinery/refinery-worker/adapters/kafkaqueue"
	"github.com/refinery/refinery-worker/adapters/redisqueue"
	"github.com/refinery/refinery-worker/pipeline"
)

// Options name the backend and carry the options of each; only the chosen
// backend's are read.
type Options struct {
	// Backend is QUEUE_BACKEND: file, redis, kafka or controlplane.
	Backend string
	File    filequeue.Options
	// Watch consumes the file as items arrive (serve): Queue.WaitItems is
	// then set.
	Watch        bool
	Redis        redisqueue.Options
	Kafka        kafkaqueue.Options
	ControlPlane controlplane.IntakeOptions
	Logger       *slog.Logger
}

// Queue is the opened intake.
type Queue struct {
	pipeline.Intake
	// WaitItems waits for a watched file queue to change; nil otherwise.
	WaitItems func(context.Context)
	watcher   *filequeue.Watcher
}

// Open opens the backend's intake.
func Open(ctx context.Context, o Options) (*Queue, error) {
	q := &Queue{}
	var err error
	switch o.Backend {
	case "file":
		fq, ferr := filequeue.Open(o.File)
		if ferr != nil {
			return nil, fmt.Errorf("QUEUE_FILE=%s: %w", o.File.Path, ferr)
		}
		q.Intake = fq
		if o.Watch {
			q.watcher = fq.Watch(o.Logger)
			q.WaitItems = q.watcher.Wait
		}
	case "redis":
		q.Intake, err = redisqueue.Open(ctx, o.Redis)
	case "kafka":
		q.Intake, err = kafkaqueue.Open(o.Kafka)
	case "controlplane":
		q.Intake, err = controlplane.NewIntake(o.ControlPlane)
	default:
		return nil, fmt.Errorf("QUEUE_BACKEND=%s is not available in this build", o.Backend)
	}
	if err != nil {
		return nil, err
	}
	return q, nil
}

// Close stops the file watcher, then gives up the intake (held items stay
// recoverable).
func (q *Queue) Close() error {
	var werr error
	if q.watcher != nil {
		werr = q.watcher.Close()
	}
	return errors.Join(werr, q.Intake.Close())
}
