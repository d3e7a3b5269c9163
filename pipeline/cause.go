package pipeline

import (
	"context"
	"errors"
)

// Cancellation causes a build context may carry (context.WithCancelCause).
// Runners map them to Result.Reason.
var (
	ErrShutdown  = errors.New("worker shutting down")
	ErrCancelled = errors.New("build cancelled by operator")
)

// CancelReason maps a done context to the Reason a runner reports.
func CancelReason(ctx context.Context) string {
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, ErrShutdown):
		return ReasonShutdown
	case errors.Is(cause, context.DeadlineExceeded):
		return ReasonTimeout
	default:
		return ReasonCancelled
	}
}
