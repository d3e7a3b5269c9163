package main

import (
	"context"
	"time"

	"github.com/refinery/refinery-worker/adapters/hints"
	"github.com/refinery/refinery-worker/adapters/podman"
	"github.com/refinery/refinery-worker/handlers"
)

// hintsFirstLoad bounds the load of the hint catalog at start.
const hintsFirstLoad = 15 * time.Second

// startHints loads the hint catalog (the control-plane's, else HINTS_FILE),
// refreshes it every HINTS_REFRESH_INTERVAL until the worker closes, and
// lets the build stage match failures against it. No source: no catalog.
func (w *worker) startHints(ctx context.Context) {
	var src hints.Source
	switch {
	case w.reporting != nil:
		src = hints.ControlPlane{Client: w.reporting.Client()}
	case w.cfg.HintsFile != "":
		src = hints.File{Path: w.cfg.HintsFile}
	default:
		return
	}
	store := hints.NewStore(src, w.log)
	first, cancelFirst := context.WithTimeout(ctx, hintsFirstLoad)
	if err := store.Refresh(first); err != nil {
		w.log.Warn("hint catalog not loaded; failures are matched once a refresh succeeds", "err", err)
	}
	cancelFirst()
	w.hints = store
	w.build.MatchHints(store)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		store.Run(runCtx, w.cfg.HintsRefreshInterval.D())
	}()
	w.closers = append(w.closers, func() error { cancel(); <-done; return nil })
}

// autoFix is the report stage's auto-fix (AUTO_FIX), or nil when it is off
// or cannot work: no catalog, no podman, or an image whose package manager
// is unknown (each said in the log).
func (w *worker) autoFix(ctx context.Context, image string) *handlers.AutoFix {
	if !w.cfg.AutoFix {
		return nil
	}
	if w.hints == nil || w.cfg.PodmanBin == "" {
		w.log.Warn("AUTO_FIX is on but there is no hint catalog or no podman runner: auto-fix is off")
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	pm, err := podman.PackageManager(pctx, w.cfg.PodmanBin, image)
	if err != nil {
		w.log.Warn("AUTO_FIX is on but the image's package manager is unknown: auto-fix is off", "err", err)
		return nil
	}
	w.log.Info("auto-fix on", "package_manager", pm, "min_confidence", w.cfg.AutoFixMinConfidence)
	return &handlers.AutoFix{MinConfidence: w.cfg.AutoFixMinConfidence, PackageManager: pm, Hints: w.hints}
}

// buildImage is the image the podman runner builds in.
func buildImage(cfg Config) string {
	c, err := podman.NewCommander(podmanOptions(cfg))
	if err != nil {
		return ""
	}
	return c.Image()
}
