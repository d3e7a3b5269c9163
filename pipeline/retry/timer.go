package retry

import (
	"context"
	"time"
)

// Timer waits between attempts. Tests pass a fake that records the waits and
// returns at once.
type Timer interface {
	// Sleep waits d, or returns context.Cause(ctx) when ctx ends first.
	Sleep(ctx context.Context, d time.Duration) error
}

// realTimer sleeps on the wall clock.
type realTimer struct{}

func (realTimer) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
