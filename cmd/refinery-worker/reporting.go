package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/heartbeat"
	"github.com/refinery/refinery-worker/adapters/joblog"
	"github.com/refinery/refinery-worker/adapters/logstream"
	"github.com/refinery/refinery-worker/adapters/outbox"
	"github.com/refinery/refinery-worker/adapters/planfile"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/redact"
)

// reporting is the control-plane side of a worker: client, outbox (with its
// delivery loop), live log streams and heartbeats. All nil without
// CONTROL_PLANE_URL.
type reporting struct {
	client   *controlplane.Client
	outbox   *outbox.Outbox
	reporter *outbox.Reporter
	streamer *logstream.Streamer
	stop     context.CancelFunc
	done     chan struct{}
}

// secrets are the values masked in logs, events and files: the tokens, the
// object store key, index passwords, and every *_TOKEN/_SECRET/_PASSWORD/_KEY
// variable of the environment (they may reach builds).
func secrets(cfg Config, environ []string) *redact.Redactor {
	list := redact.SecretsFromEnv(environ)
	list = append(list, cfg.WorkerToken, cfg.ControlPlaneToken, cfg.ObjectStoreSecretKey, cfg.IndexPassword)
	for _, u := range append([]string{cfg.IndexURL, cfg.RedisURL}, cfg.ExtraIndexURL...) {
		if pu, err := url.Parse(u); err == nil && pu.User != nil {
			if pw, ok := pu.User.Password(); ok {
				list = append(list, pw)
			}
		}
	}
	var nonEmpty []string
	for _, s := range list {
		if s != "" {
			nonEmpty = append(nonEmpty, s)
		}
	}
	return redact.New(nonEmpty...)
}

// newReporting starts the delivery loop and heartbeats; close() drains what
// it can within a deadline and stops them.
func newReporting(ctx context.Context, cfg Config, w *worker, red *redact.Redactor) (*reporting, error) {
	if cfg.ControlPlaneURL == "" {
		return nil, nil
	}
	client, err := controlplane.New(controlplane.Options{BaseURL: cfg.ControlPlaneURL, Token: cfg.ControlPlaneToken, Logger: w.log})
	if err != nil {
		return nil, err
	}
	ob, err := outbox.Open(outbox.Options{Dir: filepath.Join(cfg.CacheDir, "outbox"), Sender: client, Logger: w.log})
	if err != nil {
		return nil, err
	}
	// A leased build that was skipped (not attempted) is offered again no
	// sooner than the longest requeue backoff.
	rep, err := outbox.NewReporter(outbox.ReporterOptions{Outbox: ob, Redactor: red, SkipBackoff: cfg.RequeueBackoffMax.D()})
	if err != nil {
		ob.Close()
		return nil, err
	}
	st, err := logstream.New(logstream.Options{Client: client, SpillDir: filepath.Join(cfg.CacheDir, "logstream"), Resender: rep,
		Redactor: red, Logger: w.log})
	if err != nil {
		ob.Close()
		return nil, err
	}
	planPool := 0 // unknown to the heartbeat (omitted) unless this worker plans pending inputs
	if cfg.PlanPollInterval.D() > 0 {
		planPool = 1 // the poller plans one input at a time
	}
	hb, err := heartbeat.New(heartbeat.Options{Sender: client, WorkerID: cfg.WorkerID,
		Interval: time.Duration(cfg.WorkerHeartbeatIntervalSec) * time.Second, ActiveBuilds: w.running.Len,
		PoolSize: cfg.BuildConcurrency, PlanPoolSize: planPool, RunID: currentRunID(ctx, rep, cfg), Logger: w.log})
	if err != nil {
		ob.Close()
		return nil, err
	}
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	r := &reporting{client: client, outbox: ob, reporter: rep, streamer: st, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		if err := ob.Run(rctx); err != nil && !errors.Is(err, context.Canceled) {
			w.log.Error("outbox delivery stopped", "err", err)
		}
	}()
	go func() { _ = hb.Run(rctx) }()
	return r, nil
}

// currentRunID is the run the worker works on, for the heartbeat: that of the
// latest outcome reported, else the local plan's ("" when neither is known).
func currentRunID(ctx context.Context, rep *outbox.Reporter, cfg Config) func() string {
	plans := planfile.New(filepath.Join(cfg.OutputDir, "plan.json"), filepath.Join(cfg.CacheDir, "plan.json"))
	return func() string {
		if id := rep.LastRunID(); id != "" {
			return id
		}
		if p, _, err := plans.Current(ctx); err == nil && p != nil {
			return p.RunID
		}
		return ""
	}
}

// sink attaches the live control-plane stream to each job log.
func (r *reporting) sink() joblog.Option {
	return joblog.WithSinks(func(ctx context.Context, job pipeline.Job) joblog.LineSink { return r.streamer.Sink(ctx, job) })
}

// close waits up to wait for the outbox to empty (what is left stays on disk
// for the next start), then stops delivery.
func (r *reporting) close(wait time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// Not reaching empty is not an error: undelivered reports stay in the
	// outbox on disk and go out after the next start.
	_ = r.outbox.WaitEmpty(ctx)
	r.stop()
	<-r.done
	if err := r.outbox.Close(); err != nil {
		return fmt.Errorf("close outbox: %w", err)
	}
	return nil
}

// reporter is the report stage's Reporter, or nil.
func (r *reporting) reporterOrNil() handlers.Reporter {
	if r == nil {
		return nil
	}
	return r.reporter
}
