package main

import (
	"context"
	"time"

	"github.com/refinery/refinery-worker/adapters/hints"
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
		src = hints.ControlPlane{Client: w.reporting.client}
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
