package hints

import (
	"context"
	"log/slog"
	"time"
)

// FirstLoad bounds the load of the catalog at start.
const FirstLoad = 15 * time.Second

// Live is a Store loaded at start and refreshed in the background until
// Close.
type Live struct {
	*Store
	stop context.CancelFunc
	done chan struct{}
}

// StartLive loads the catalog of src (within FirstLoad; a failure is logged
// and a later refresh retries) and refreshes it every interval until Close.
func StartLive(ctx context.Context, src Source, interval time.Duration, log *slog.Logger) *Live {
	store := NewStore(src, log)
	first, cancel := context.WithTimeout(ctx, FirstLoad)
	if err := store.Refresh(first); err != nil {
		log.Warn("hint catalog not loaded; failures are matched once a refresh succeeds", "err", err)
	}
	cancel()
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &Live{Store: store, stop: stop, done: make(chan struct{})}
	go l.run(runCtx, interval)
	return l
}

func (l *Live) run(ctx context.Context, interval time.Duration) {
	defer close(l.done)
	l.Store.Run(ctx, interval)
}

// Close stops the refreshes.
func (l *Live) Close() error {
	l.stop()
	<-l.done
	return nil
}
