package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/refinery/refinery-worker/adapters/podman"
	"github.com/refinery/refinery-worker/adapters/stub"
	"github.com/refinery/refinery-worker/handlers"
)

// podmanOptions maps the configuration onto the podman adapter's options.
func podmanOptions(cfg Config) podman.Options {
	return podman.Options{
		Bin: cfg.PodmanBin, Image: cfg.ContainerImage, Preset: cfg.ContainerPreset, RunCmd: cfg.WorkerRunCmd,
		Memory: cfg.ContainerMemory, CPUs: cfg.ContainerCPUs, PidsLimit: cfg.ContainerPidsLimit,
		Network: cfg.ContainerNetwork, Timeout: time.Duration(cfg.RunnerTimeoutSec) * time.Second,
		StopGrace: time.Duration(cfg.StopGraceSec) * time.Second, OutputDir: cfg.OutputDir, CacheDir: cfg.CacheDir,
		IndexURL: cfg.IndexURL, ExtraIndexURL: strings.Join(cfg.ExtraIndexURL, " "), WorkerID: cfg.ContainerOwner(),
		// The start check makes sure the image is for this machine.
		Arch: podman.OCIArch(podman.MachineOf(cfg.PlatformTag)),
	}
}

// newRunner picks the stub (PODMAN_BIN unset) or the podman runner, and
// returns the clean-up of leftover containers to run at start (nil for the
// stub).
func newRunner(cfg Config, log *slog.Logger) (handlers.Runner, func(context.Context) (int, error), error) {
	cmd, err := podman.NewCommander(podmanOptions(cfg))
	if err != nil {
		return nil, nil, err
	}
	if cfg.PodmanBin == "" {
		var delay stub.DelayFunc
		if cfg.StubDelayMax > 0 {
			delay = stub.Uniform(0, cfg.StubDelayMax.D())
		}
		log.Info("PODMAN_BIN is unset: using the stub runner (jobs are skipped, not built)")
		return stub.New(cmd, stub.Options{Delay: delay, FailRatio: cfg.StubFailRatio, Seed: uint64(time.Now().UnixNano())}), nil, nil
	}
	return newPodmanRunner(cfg, cmd, log)
}
