package main

import (
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

// newRunner is the stub (PODMAN_BIN unset) or the podman runner, which
// refuses to start when the builder image is not for PLATFORM_TAG's machine
// and removes a previous run's containers at start (counted in removed).
func newRunner(cfg Config, log *slog.Logger, removed podman.RemovalObserver) (handlers.Runner, error) {
	cmd, err := podman.NewCommander(podmanOptions(cfg))
	if err != nil {
		return nil, err
	}
	if cfg.PodmanBin == "" {
		var delay stub.DelayFunc
		if lo, hi := cfg.StubDelayMin.D(), cfg.StubDelayMax.D(); lo > 0 || hi > 0 {
			delay = stub.Uniform(lo, hi) // hi <= lo: a fixed lo
		}
		log.Info("PODMAN_BIN is unset: using the stub runner (jobs are skipped, not built)")
		return stub.New(cmd, stub.Options{Delay: delay, FailRatio: cfg.StubFailRatio, Seed: uint64(time.Now().UnixNano())}), nil
	}
	r, err := podman.StartRunner(cmd, podman.RunnerOptions{Logger: log, Target: cfg.PlatformTag, SmokeTest: cfg.SmokeTest,
		Auditor: podman.WheelAudit{}, Removed: removed})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// buildImage is the image the podman runner builds in.
func buildImage(cfg Config) string {
	c, err := podman.NewCommander(podmanOptions(cfg))
	if err != nil {
		return ""
	}
	return c.Image()
}
