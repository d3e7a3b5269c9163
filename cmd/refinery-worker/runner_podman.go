package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/refinery/refinery-worker/adapters/podman"
	"github.com/refinery/refinery-worker/handlers"
)

func newPodmanRunner(cfg Config, cmd *podman.Commander, log *slog.Logger) (handlers.Runner, func(context.Context) (int, error), error) {
	return nil, nil, errors.New("PODMAN_BIN: the podman runner is not wired yet")
}
