package handlers

import (
	"context"

	"github.com/refinery/refinery-worker/pipeline"
)

// Recorder keeps the local record of outcomes (manifest.json). Record must be
// durable against a crash of the worker when it returns.
type Recorder interface {
	Record(ctx context.Context, o pipeline.Outcome) error
	// Recorded reports whether an outcome for this intake claim is already
	// recorded, and its status.
	Recorded(claim string) (pipeline.Status, bool)
}

// Reporter hands an outcome to the control-plane delivery path. It must make
// the report durable (an outbox) before it returns; delivery happens later.
type Reporter interface {
	Report(ctx context.Context, w *pipeline.Work) error
}
