package main

import (
	"context"
	"log/slog"

	"github.com/refinery/refinery-worker/adapters/podman"
	"github.com/refinery/refinery-worker/handlers"
)

// newPodmanRunner builds the real runner; its Cleanup removes containers a
// previous run of this worker left behind (by the refinery.worker label).
func newPodmanRunner(_ Config, cmd *podman.Commander, log *slog.Logger) (handlers.Runner, func(context.Context) (int, error), error) {
	r, err := podman.NewRunner(cmd, log)
	if err != nil {
		return nil, nil, err
	}
	return r, r.Cleanup, nil
}
