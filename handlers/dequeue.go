package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// InflightKeys de-duplicates requests: Acquire returns the correlation id of
// the request already in flight with the same key, or registers this one.
type InflightKeys interface {
	Acquire(key, correlationID string) (leader string, dup bool)
}

// Dequeue validates and normalises raw intake items (docs/architecture.md).
// A bad item goes to the poison topic with a reason naming the field; a
// redelivered item whose outcome is already recorded skips straight to the
// requeue stage; a duplicate of an in-flight request is recorded as skipped.
type Dequeue struct {
	recorder Recorder
	keys     InflightKeys
	now      func() time.Time
}

// NewDequeue builds the dequeue stage.
func NewDequeue(recorder Recorder, keys InflightKeys, now func() time.Time) *Dequeue {
	if now == nil {
		now = time.Now
	}
	return &Dequeue{recorder: recorder, keys: keys, now: now}
}

// Handle is the stage.
func (d *Dequeue) Handle(_ context.Context, w *pipeline.Work) (string, error) {
	if entry, done := d.recorder.Entry(w.Claim); done && w.ReplayOf == "" {
		// Recorded before a crash, not yet settled: not built again. The
		// report stage re-sends the recorded outcome (idempotently), then it
		// is settled as recorded.
		w.Outcome = &pipeline.Outcome{Entry: entry, Redelivered: true}
		if p, ok := entry.Metadata["log_path"].(string); ok {
			w.Outcome.LogPath = p
		}
		if e, ok := entry.Metadata[pipeline.MetaError].(string); ok {
			w.Outcome.Detail = e
		}
		return pipeline.TopicResults, nil
	}
	it, err := pipeline.DecodeItem(w.Raw)
	var req *pipeline.Request
	if err == nil {
		req, err = pipeline.ValidateItem(it)
	}
	if err != nil {
		rej := &pipeline.Rejection{Reason: err.Error(), At: d.now().UTC()}
		var fe *pipeline.FieldError
		if errors.As(err, &fe) {
			rej.Field, rej.Reason = fe.Field, fe.Reason
		}
		w.Rejection = rej
		return pipeline.TopicPoison, nil
	}
	w.Request = req
	w.Raw = nil // Request.Item carries the item from here on (unknown fields included)
	if leader, dup := d.keys.Acquire(req.Key(), w.CorrelationID); dup {
		w.Result = &pipeline.Result{Status: pipeline.StatusSkipped, Reason: pipeline.ReasonDuplicate,
			Error:    fmt.Sprintf("duplicate of request %s already in flight", leader),
			Metadata: map[string]any{"duplicate_of": leader}}
		return pipeline.TopicResults, nil
	}
	return pipeline.TopicRequests, nil
}
