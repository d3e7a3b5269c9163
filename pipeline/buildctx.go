package pipeline

import "context"

// BuildContext is the context builds run with: it keeps the values of the
// worker's context but not its cancellation (closing the router cancels
// message contexts, and a build must outlive them); Stop (the Lifecycle's
// StopBuilds) ends it. An unstopped BuildContext holds no resources.
type BuildContext struct {
	context.Context
	stop context.CancelCauseFunc
}

// NewBuildContext derives the build context from ctx.
func NewBuildContext(ctx context.Context) BuildContext {
	b, stop := context.WithCancelCause(context.WithoutCancel(ctx))
	return BuildContext{Context: b, stop: stop}
}

// Stop ends the builds' context with cause.
func (b BuildContext) Stop(cause error) { b.stop(cause) }
