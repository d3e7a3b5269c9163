// Package heartbeat sends the worker's periodic POST /api/worker/heartbeat.
// The older control-plane has no such endpoint: on 404 the loop logs one line
// and stops, without failing the worker. Fields the worker does not know (no
// run yet, no planning) are omitted rather than sent as zero.
package heartbeat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
)

// Sender sends one heartbeat; *controlplane.Client implements it. It returns
// an error wrapping controlplane.ErrNotSupported when the endpoint is absent.
type Sender interface {
	Heartbeat(ctx context.Context, hb controlplane.Heartbeat) error
}

// Options configures a Loop.
type Options struct {
	// Sender is required.
	Sender Sender
	// WorkerID (WORKER_ID). Default "<hostname>-<pid>".
	WorkerID string
	// Interval between heartbeats (WORKER_HEARTBEAT_INTERVAL_SEC). Default 15s.
	Interval time.Duration
	// RunID returns the current run id ("" while unknown: omitted). Optional.
	RunID func() string
	// ActiveBuilds returns the number of builds running now. Optional.
	ActiveBuilds func() int
	// PoolSize is the number of parallel builds the worker allows.
	PoolSize int
	// PlanPoolSize is the number of plans the worker makes at once; 0 when
	// it plans nothing here (omitted). Must not be negative.
	PlanPoolSize int
	// Logger default slog.Default().
	Logger *slog.Logger
}

// Loop sends heartbeats.
type Loop struct{ opts Options }

// New checks opts and returns a Loop.
func New(opts Options) (*Loop, error) {
	if opts.Sender == nil {
		return nil, errors.New("heartbeat: sender is required")
	}
	if opts.PlanPoolSize < 0 {
		return nil, fmt.Errorf("heartbeat: plan pool size %d is negative", opts.PlanPoolSize)
	}
	if opts.Interval <= 0 {
		opts.Interval = 15 * time.Second
	}
	if opts.WorkerID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "worker"
		}
		opts.WorkerID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Loop{opts: opts}, nil
}

// Run sends a heartbeat at once and then every Interval until ctx is done
// (returns nil) or the control-plane says it has no heartbeat endpoint
// (logs once, returns nil). Other failures are logged and retried on the
// next tick.
func (l *Loop) Run(ctx context.Context) error {
	t := time.NewTicker(l.opts.Interval)
	defer t.Stop()
	for {
		hb := controlplane.Heartbeat{WorkerID: l.opts.WorkerID, BuildPoolSize: l.opts.PoolSize,
			PlanPoolSize: l.opts.PlanPoolSize, HeartbeatIntervalSec: int(l.opts.Interval / time.Second)}
		if l.opts.RunID != nil {
			hb.RunID = l.opts.RunID()
		}
		if l.opts.ActiveBuilds != nil {
			hb.ActiveBuilds = l.opts.ActiveBuilds()
		}
		err := l.opts.Sender.Heartbeat(ctx, hb)
		switch {
		case errors.Is(err, controlplane.ErrNotSupported):
			l.opts.Logger.Info("control-plane has no heartbeat endpoint; heartbeats switched off")
			return nil
		case err != nil && ctx.Err() == nil:
			l.opts.Logger.Warn("heartbeat failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
