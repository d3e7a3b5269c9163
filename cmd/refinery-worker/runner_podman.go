package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/refinery/refinery-worker/adapters/podman"
	"github.com/refinery/refinery-worker/handlers"
)

// newPodmanRunner builds the real runner; its Cleanup removes containers a
// previous run of this worker left behind (by the refinery.worker label).
// It refuses to start when the builder image is not for PLATFORM_TAG's
// machine or this host cannot run it.
func newPodmanRunner(cfg Config, cmd *podman.Commander, log *slog.Logger) (handlers.Runner, func(context.Context) (int, error), error) {
	r, err := podman.NewRunner(cmd, podman.RunnerOptions{Logger: log, Target: cfg.PlatformTag, SmokeTest: cfg.SmokeTest,
		Auditor: podman.WheelAudit{}})
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.CheckPlatform(ctx, cfg.PlatformTag); err != nil {
		return nil, nil, fmt.Errorf("PLATFORM_TAG %s: %w", cfg.PlatformTag, err)
	}
	return r, r.Cleanup, nil
}

// platformChecker is the runner's check that its image fits the target.
type platformChecker interface {
	CheckPlatform(ctx context.Context, target string) error
}

// runnerReady is the /ready check of the builder image's platform (nil for
// a runner without one, e.g. the stub).
func runnerReady(r handlers.Runner, cfg Config) func(context.Context) error {
	p, ok := r.(platformChecker)
	if !ok {
		return nil
	}
	return func(ctx context.Context) error { return p.CheckPlatform(ctx, cfg.PlatformTag) }
}
