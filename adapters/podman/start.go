package podman

import (
	"context"
	"fmt"
	"time"
)

// platformCheckTimeout bounds the start check of the builder image.
const platformCheckTimeout = time.Minute

// StartRunner makes the runner and refuses to start when the builder image
// is not for the target's machine (RunnerOptions.Target) or this host
// cannot run it.
func StartRunner(cmd *Commander, ro RunnerOptions) (*Runner, error) {
	r, err := NewRunner(cmd, ro)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), platformCheckTimeout)
	defer cancel()
	if err := r.CheckPlatform(ctx, ro.Target); err != nil {
		return nil, fmt.Errorf("PLATFORM_TAG %s: %w", ro.Target, err)
	}
	return r, nil
}

// Ready is the /ready check of the builder image's platform.
func (r *Runner) Ready(ctx context.Context) error { return r.CheckPlatform(ctx, r.target) }

// Prepare removes the containers a previous run of this worker left behind
// (Cleanup), before the first build.
func (r *Runner) Prepare(ctx context.Context) error {
	n, err := r.Cleanup(ctx)
	if err != nil {
		return fmt.Errorf("remove leftover containers: %w", err)
	}
	r.logger.Info("removed leftover containers", "count", n)
	if r.removed != nil {
		r.removed.ContainersRemoved(n)
	}
	return nil
}
