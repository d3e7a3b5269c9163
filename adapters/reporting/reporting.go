// Package reporting is the control-plane side of a worker: the client, the
// outbox with its delivery loop, the live log streams and the heartbeats.
package reporting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/heartbeat"
	"github.com/refinery/refinery-worker/adapters/hints"
	"github.com/refinery/refinery-worker/adapters/joblog"
	"github.com/refinery/refinery-worker/adapters/logstream"
	"github.com/refinery/refinery-worker/adapters/outbox"
	"github.com/refinery/refinery-worker/adapters/planfile"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/redact"
)

// Options configure a Link.
type Options struct {
	// BaseURL is CONTROL_PLANE_URL; "" means no control-plane (Open
	// returns nil).
	BaseURL, Token string
	// WorkerID names the worker in heartbeats.
	WorkerID string
	// OutputDir and CacheDir: the outbox and log spill live under
	// CacheDir; plan.json (the heartbeat's run id) under either.
	OutputDir, CacheDir string
	// SkipBackoff: a leased build that was skipped (not attempted) is
	// offered again no sooner than this (REQUEUE_BACKOFF_MAX).
	SkipBackoff time.Duration
	// HeartbeatInterval is WORKER_HEARTBEAT_INTERVAL_SEC.
	HeartbeatInterval time.Duration
	// ActiveBuilds counts the builds running now (heartbeat).
	ActiveBuilds func() int
	// PoolSize is BUILD_CONCURRENCY; PlanPoolSize the plans this worker
	// runs at once (0: it plans no pending inputs, left out).
	PoolSize, PlanPoolSize int
	// CloseWait bounds how long Close waits for the outbox to empty
	// (default 5s).
	CloseWait time.Duration
	Redactor  *redact.Redactor
	Logger    *slog.Logger
}

// Link is a worker's connection to the control-plane. Its methods are
// safe on a nil Link (no control-plane) where noted.
type Link struct {
	client   *controlplane.Client
	outbox   *outbox.Outbox
	reporter *outbox.Reporter
	streamer *logstream.Streamer
	log      *slog.Logger
	wait     time.Duration
	stop     context.CancelFunc
	done     chan struct{}
}

// Open connects and starts the delivery loop and heartbeats (they run
// until Close, not bound to ctx). Without a BaseURL it returns nil, nil.
func Open(ctx context.Context, o Options) (*Link, error) {
	if o.BaseURL == "" {
		return nil, nil
	}
	client, err := controlplane.New(controlplane.Options{BaseURL: o.BaseURL, Token: o.Token, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	ob, err := outbox.Open(outbox.Options{Dir: filepath.Join(o.CacheDir, "outbox"), Sender: client, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	rep, err := outbox.NewReporter(outbox.ReporterOptions{Outbox: ob, Redactor: o.Redactor, SkipBackoff: o.SkipBackoff})
	if err != nil {
		ob.Close()
		return nil, err
	}
	st, err := logstream.New(logstream.Options{Client: client, SpillDir: filepath.Join(o.CacheDir, "logstream"), Resender: rep,
		Redactor: o.Redactor, Logger: o.Logger})
	if err != nil {
		ob.Close()
		return nil, err
	}
	runs := runIDs{reporter: rep, plans: planfile.New(filepath.Join(o.OutputDir, "plan.json"), filepath.Join(o.CacheDir, "plan.json"))}
	hb, err := heartbeat.New(heartbeat.Options{Sender: client, WorkerID: o.WorkerID, Interval: o.HeartbeatInterval,
		ActiveBuilds: o.ActiveBuilds, PoolSize: o.PoolSize, PlanPoolSize: o.PlanPoolSize, RunID: runs.current, Logger: o.Logger})
	if err != nil {
		ob.Close()
		return nil, err
	}
	if o.CloseWait <= 0 {
		o.CloseWait = 5 * time.Second
	}
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &Link{client: client, outbox: ob, reporter: rep, streamer: st, log: o.Logger, wait: o.CloseWait, stop: stop,
		done: make(chan struct{})}
	go l.deliver(rctx)
	go l.beat(rctx, hb)
	return l, nil
}

func (l *Link) deliver(ctx context.Context) {
	defer close(l.done)
	if err := l.outbox.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		l.log.Error("outbox delivery stopped", "err", err)
	}
}

func (l *Link) beat(ctx context.Context, hb *heartbeat.Loop) { _ = hb.Run(ctx) }

// runIDs is the run the worker works on, for the heartbeat.
type runIDs struct {
	reporter interface{ LastRunID() string }
	plans    interface {
		Current(context.Context) (*pipeline.Plan, string, error)
	}
}

// current is that of the latest outcome reported, else the local plan's
// ("" when neither is known).
func (r runIDs) current() string {
	if id := r.reporter.LastRunID(); id != "" {
		return id
	}
	if p, _, err := r.plans.Current(context.Background()); err == nil && p != nil {
		return p.RunID
	}
	return ""
}

// Client is the control-plane client.
func (l *Link) Client() *controlplane.Client { return l.client }

// Reporter sends outcomes, statuses and plans through the outbox.
func (l *Link) Reporter() *outbox.Reporter { return l.reporter }

// StageReporter is the report stage's Reporter; nil on a nil Link.
func (l *Link) StageReporter() handlers.Reporter {
	if l == nil {
		return nil
	}
	return l.reporter
}

// LogOptions attach the live control-plane stream to each job log; none on
// a nil Link.
func (l *Link) LogOptions() []joblog.Option {
	if l == nil {
		return nil
	}
	return []joblog.Option{joblog.WithSinks(l.sink)}
}

func (l *Link) sink(ctx context.Context, job pipeline.Job) joblog.LineSink {
	return l.streamer.Sink(ctx, job)
}

// Backlog is the number of reports waiting in the outbox; 0 on a nil Link.
func (l *Link) Backlog() int {
	if l == nil {
		return 0
	}
	return l.outbox.Backlog()
}

// DeadLetters is the number of reports the control-plane rejected for
// good; 0 on a nil Link.
func (l *Link) DeadLetters() int {
	if l == nil {
		return 0
	}
	return l.outbox.DeadLetters()
}

// Close waits up to CloseWait for the outbox to empty (what is left stays on
// disk for the next start), then stops delivery and heartbeats.
func (l *Link) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), l.wait)
	defer cancel()
	// Not reaching empty is not an error: undelivered reports stay in the
	// outbox on disk and go out after the next start.
	_ = l.outbox.WaitEmpty(ctx)
	l.stop()
	<-l.done
	if err := l.outbox.Close(); err != nil {
		return fmt.Errorf("close outbox: %w", err)
	}
	return nil
}

// StagePlans is the plan stage's source: plans, stored at the control-plane
// once per run_id through the outbox (the poster, which POST /plan uses
// too; it remembers what it posted under dir). On a nil Link it is plans
// itself and no poster.
func (l *Link) StagePlans(plans handlers.PlanSource, dir string) (handlers.PlanSource, *outbox.PlanPoster, error) {
	if l == nil {
		return plans, nil, nil
	}
	pp, err := outbox.NewPlanPoster(plans, l.reporter, dir, l.log)
	if err != nil {
		return nil, nil, err
	}
	return pp, pp, nil
}

// HintSource is the control-plane's hint catalog; nil on a nil Link.
func (l *Link) HintSource() hints.Source {
	if l == nil {
		return nil
	}
	return hints.ControlPlane{Client: l.client}
}

// PlanByID serves the plan stage plans by control-plane id (cached a
// minute); nil on a nil Link.
func (l *Link) PlanByID() handlers.PlanByID {
	if l == nil {
		return nil
	}
	return controlplane.NewPlanSource(l.client, time.Minute)
}
