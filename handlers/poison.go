package handlers

import (
	"context"
	"fmt"

	"github.com/refinery/refinery-worker/pipeline"
)

// RejectionRecorder keeps the record of items the worker refused (raw bytes,
// field, reason). Record is idempotent per claim.
type RejectionRecorder interface {
	RecordRejection(ctx context.Context, w *pipeline.Work) error
}

// Poison records rejected items, then passes them to requeue to be released:
// a bad item is never dropped silently and never blocks the queue.
type Poison struct{ rec RejectionRecorder }

// NewPoison builds the rejection stage.
func NewPoison(rec RejectionRecorder) *Poison { return &Poison{rec: rec} }

// Handle is the stage.
func (p *Poison) Handle(ctx context.Context, w *pipeline.Work) (string, error) {
	if err := p.rec.RecordRejection(ctx, w); err != nil {
		return "", fmt.Errorf("record rejection %s: %w", w.CorrelationID, err)
	}
	if w.Claim == "" {
		return "", nil // an undecodable transport message: nothing to release
	}
	return pipeline.TopicReported, nil
}
