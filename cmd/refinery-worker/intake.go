package main

import (
	"context"
	"path/filepath"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/filequeue"
	"github.com/refinery/refinery-worker/adapters/intake"
	"github.com/refinery/refinery-worker/adapters/kafkaqueue"
	"github.com/refinery/refinery-worker/adapters/redisqueue"
	"github.com/refinery/refinery-worker/adapters/transport"
	"github.com/refinery/refinery-worker/pipeline"
)

// openIntake opens the QUEUE_BACKEND intake.
func (w *worker) openIntake(ctx context.Context) error {
	cfg := w.cfg
	o := intake.Options{Backend: cfg.QueueBackend, Watch: w.opts.continuous, Logger: w.log, // serve consumes a file as items arrive
		File:  filequeue.Options{Path: cfg.QueueFile, Owner: cfg.WorkerID, Logger: w.log, MaxBytes: int64(cfg.QueueFileMaxBytes)},
		Redis: redisqueue.Options{URL: cfg.RedisURL, Key: cfg.RedisKey, Owner: cfg.WorkerID, Logger: w.log},
		Kafka: kafkaqueue.Options{Brokers: cfg.KafkaBrokers, Topic: cfg.KafkaTopic, Group: cfg.KafkaGroup, Logger: w.log}}
	if w.reporting != nil {
		o.ControlPlane = controlplane.IntakeOptions{Client: w.reporting.Client(), Statuses: w.reporting.Reporter(),
			Dir: filepath.Join(cfg.CacheDir, "cp-leases"), Logger: w.log, LeaseTimeout: time.Duration(cfg.BuildLeaseTimeoutSec) * time.Second}
		if w.opts.continuous { // serve polls; a one-shot drain stops at the first empty pop
			o.ControlPlane.PollInterval, o.ControlPlane.PollMax = cfg.BuildQueuePollInterval.D(), cfg.BuildQueuePollMax.D()
		}
	}
	q, err := intake.Open(context.WithoutCancel(ctx), o) // as before: a signal does not cut the first beat short
	if err != nil {
		return err
	}
	w.intake, w.waitItems = q.Intake, q.WaitItems
	w.closers = append(w.closers, q.Close)
	if in, ok := w.intake.(*controlplane.Intake); ok {
		w.reporting.Reporter().SetLeases(in) // retry summaries; no renewal after a final status
	}
	return nil
}

// openTransport connects the stages: in process by default, or
// over Redis Streams or Kafka, where the build stage's messages stay this
// worker's until their result is published (a dead worker's builds are
// taken over after CLAIM_IDLE).
func (w *worker) openTransport(ctx context.Context) (pipeline.Transport, error) {
	t, closeFn, err := transport.Open(ctx, transport.OpenOptions{Kind: w.cfg.PipelineTransport, RedisURL: w.cfg.RedisURL,
		Brokers: w.cfg.KafkaBrokers, Prefix: w.cfg.TopicPrefix, ClaimIdle: w.cfg.ClaimIdle.D(), Logger: w.log,
		Holds: []transport.Hold{{Topic: pipeline.TopicJobs, Until: pipeline.TopicResults, Slots: w.cfg.BuildConcurrency}}})
	if closeFn != nil {
		w.closers = append(w.closers, closeFn)
	}
	return t, err
}
