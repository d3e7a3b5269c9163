// Package reporting assembles the control-plane reporting path from the
// environment-level settings cmd/ has: the client, the durable outbox and its
// Reporter, the live log streamer, the heartbeat, and the redactor shared by
// all of them. cmd/ builds one Stack, starts it, hands its parts to the
// pipeline, and stops it last.
package reporting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/heartbeat"
	"github.com/refinery/refinery-worker/adapters/joblog"
	"github.com/refinery/refinery-worker/adapters/logstream"
	"github.com/refinery/refinery-worker/adapters/outbox"
	"github.com/refinery/refinery-worker/adapters/redact"
	"github.com/refinery/refinery-worker/pipeline"
)

// Options are the settings of the reporting path.
type Options struct {
	// URL is CONTROL_PLANE_URL. Required.
	URL string
	// Token is CONTROL_PLANE_TOKEN, sent on every call when set.
	Token string
	// CacheDir is CACHE_DIR. Required. The stack uses CacheDir/outbox,
	// CacheDir/logstream (spill files) and CacheDir/cp-leases (intake).
	CacheDir string
	// Secrets are masked in streamed lines, full logs and events: pass
	// redact.SecretsFromEnv(os.Environ()) plus the environment given to builds.
	Secrets []string
	// WorkerID (WORKER_ID) names the worker in heartbeats. Default host-pid.
	WorkerID string
	// HeartbeatInterval (WORKER_HEARTBEAT_INTERVAL_SEC). Default 15s.
	HeartbeatInterval time.Duration
	// PoolSize (BUILD_CONCURRENCY) and ActiveBuilds feed the heartbeat.
	PoolSize     int
	ActiveBuilds func() int
	// RunID returns the current plan's run id for heartbeats. Optional.
	RunID func() string
	// Logger default slog.Default().
	Logger *slog.Logger
}

// Stack is the assembled reporting path.
type Stack struct {
	Client    *controlplane.Client
	Redactor  *redact.Redactor
	Outbox    *outbox.Outbox
	Reporter  *outbox.Reporter // handlers.Reporter
	Streamer  *logstream.Streamer
	Heartbeat *heartbeat.Loop
	Plans     *controlplane.PlanSource

	opts   Options
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New builds the stack; nothing runs until Start.
func New(opts Options) (*Stack, error) {
	if opts.URL == "" || opts.CacheDir == "" {
		return nil, errors.New("reporting: control-plane URL and cache dir are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Stack{opts: opts, Redactor: redact.New(opts.Secrets...)}
	var err error
	if s.Client, err = controlplane.New(controlplane.Options{BaseURL: opts.URL, Token: opts.Token, Logger: opts.Logger}); err != nil {
		return nil, fmt.Errorf("reporting: %w", err)
	}
	if s.Outbox, err = outbox.Open(outbox.Options{Dir: filepath.Join(opts.CacheDir, "outbox"), Sender: s.Client, Logger: opts.Logger}); err != nil {
		return nil, fmt.Errorf("reporting: %w", err)
	}
	if s.Reporter, err = outbox.NewReporter(outbox.ReporterOptions{Outbox: s.Outbox, Redactor: s.Redactor}); err != nil {
		return nil, fmt.Errorf("reporting: %w", err)
	}
	if s.Streamer, err = logstream.New(logstream.Options{Client: s.Client, SpillDir: filepath.Join(opts.CacheDir, "logstream"),
		Redactor: s.Redactor, Logger: opts.Logger}); err != nil {
		_ = s.Outbox.Close()
		return nil, fmt.Errorf("reporting: %w", err)
	}
	if s.Heartbeat, err = heartbeat.New(heartbeat.Options{Sender: s.Client, WorkerID: opts.WorkerID, Interval: opts.HeartbeatInterval,
		RunID: opts.RunID, ActiveBuilds: opts.ActiveBuilds, PoolSize: opts.PoolSize, Logger: opts.Logger}); err != nil {
		_ = s.Outbox.Close()
		return nil, fmt.Errorf("reporting: %w", err)
	}
	s.Plans = controlplane.NewPlanSource(s.Client, 0)
	return s, nil
}

// Sink is the joblog.SinkFactory of the live log stream.
func (s *Stack) Sink(ctx context.Context, job pipeline.Job) joblog.LineSink {
	return s.Streamer.Sink(ctx, job)
}

// NewIntake returns the QUEUE_BACKEND=controlplane intake, reporting its
// statuses through the outbox.
func (s *Stack) NewIntake() (*controlplane.Intake, error) {
	return controlplane.NewIntake(controlplane.IntakeOptions{Client: s.Client, Statuses: s.Reporter,
		Dir: filepath.Join(s.opts.CacheDir, "cp-leases"), Logger: s.opts.Logger})
}

// Start runs the outbox delivery loop and the heartbeat until Stop.
func (s *Stack) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.wg.Add(2)
	go func() { defer s.wg.Done(); _ = s.Outbox.Run(ctx) }()
	go func() { defer s.wg.Done(); _ = s.Heartbeat.Run(ctx) }()
}

// Stop gives the outbox up to grace to deliver what is pending, then stops
// the loops and releases the outbox (undelivered records stay on disk for the
// next start). It returns how many records are left.
func (s *Stack) Stop(grace time.Duration) int {
	if grace > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		_ = s.Outbox.WaitEmpty(ctx)
		cancel()
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	left := s.Outbox.Backlog()
	_ = s.Outbox.Close()
	return left
}
