package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/filequeue"
	"github.com/refinery/refinery-worker/adapters/kafkaqueue"
	"github.com/refinery/refinery-worker/adapters/redisqueue"
	"github.com/refinery/refinery-worker/adapters/transport"
	"github.com/refinery/refinery-worker/pipeline"
)

// openIntake opens the QUEUE_BACKEND intake.
func (w *worker) openIntake() error {
	switch w.cfg.QueueBackend {
	case "file":
		q, err := filequeue.Open(filequeue.Options{Path: w.cfg.QueueFile, Owner: w.cfg.WorkerID, Logger: w.log,
			MaxBytes: int64(w.cfg.QueueFileMaxBytes)})
		if err != nil {
			return fmt.Errorf("QUEUE_FILE=%s: %w", w.cfg.QueueFile, err)
		}
		w.intake = q
		w.closers = append(w.closers, q.Close)
		if w.opts.continuous { // serve consumes the file as items arrive
			wt := q.Watch(w.log)
			w.waitItems = wt.Wait
			w.closers = append(w.closers, wt.Close)
		}
		return nil
	case "redis":
		q, err := redisqueue.Open(context.Background(), redisqueue.Options{URL: w.cfg.RedisURL, Key: w.cfg.RedisKey,
			Owner: w.cfg.WorkerID, Logger: w.log})
		if err != nil {
			return err
		}
		w.intake = q
		w.closers = append(w.closers, q.Close)
		return nil
	case "kafka":
		q, err := kafkaqueue.Open(kafkaqueue.Options{Brokers: w.cfg.KafkaBrokers, Topic: w.cfg.KafkaTopic,
			Group: w.cfg.KafkaGroup, Logger: w.log})
		if err != nil {
			return err
		}
		w.intake = q
		w.closers = append(w.closers, q.Close)
		return nil
	case "controlplane":
		opts := controlplane.IntakeOptions{Client: w.reporting.Client(), Statuses: w.reporting.Reporter(),
			Dir: filepath.Join(w.cfg.CacheDir, "cp-leases"), Logger: w.log,
			LeaseTimeout: time.Duration(w.cfg.BuildLeaseTimeoutSec) * time.Second}
		if w.opts.continuous { // serve polls; a one-shot drain stops at the first empty pop
			opts.PollInterval, opts.PollMax = w.cfg.BuildQueuePollInterval.D(), w.cfg.BuildQueuePollMax.D()
		}
		in, err := controlplane.NewIntake(opts)
		if err != nil {
			return err
		}
		w.reporting.Reporter().SetLeases(in) // retry summaries; no renewal after a final status
		w.intake = in
		w.closers = append(w.closers, in.Close)
		return nil
	default:
		return fmt.Errorf("QUEUE_BACKEND=%s is not available in this build", w.cfg.QueueBackend)
	}
}

// openTransport connects the stages: in process (gochannel) by default, or
// over Redis Streams or Kafka, where the build stage's messages stay this
// worker's until their result is published (a dead worker's builds are
// taken over after CLAIM_IDLE).
func (w *worker) openTransport(ctx context.Context) (pipeline.Transport, error) {
	hold := []transport.Hold{{Topic: pipeline.TopicJobs, Until: pipeline.TopicResults, Slots: w.cfg.BuildConcurrency}}
	consumer := "" // the transport's default, <host>-<pid>-<random>: unique even for pid 1 in containers
	switch w.cfg.PipelineTransport {
	case "redis":
		t, closeFn, err := transport.Redis(ctx, transport.RedisOptions{URL: w.cfg.RedisURL, Prefix: w.cfg.TopicPrefix,
			Consumer: consumer, ClaimIdle: w.cfg.ClaimIdle.D(), Holds: hold, Logger: w.log})
		if err != nil {
			return t, fmt.Errorf("redis transport: %w", err)
		}
		w.closers = append(w.closers, closeFn)
		return t, nil
	case "kafka":
		t, closeFn, err := transport.Kafka(ctx, transport.KafkaOptions{Brokers: w.cfg.KafkaBrokers, Prefix: w.cfg.TopicPrefix,
			Consumer: consumer, ClaimIdle: w.cfg.ClaimIdle.D(), Holds: hold, Logger: w.log})
		if err != nil {
			return t, fmt.Errorf("kafka transport: %w", err)
		}
		w.closers = append(w.closers, closeFn)
		return t, nil
	default:
		gc := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024, PreserveContext: true}, watermill.NopLogger{})
		return pipeline.Transport{Publisher: gc, Subscriber: gc, InProcess: true}, nil
	}
}
