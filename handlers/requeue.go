package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// Settler ends the intake's hold on items. Submit must not wait for the
// intake write: settlements are batched, and sum is passed on once the
// settlement is durable. A crash before that redelivers the item, which the
// dequeue stage recognises by its recorded claim.
type Settler interface {
	Submit(s pipeline.Settlement, sum pipeline.Summary)
}

// Requeue ends each item: a retry outcome goes back to the queue with
// attempts+1 and a not_before backoff (no worker waits for it); everything
// else is released.
type Requeue struct {
	settler Settler
	policy  RequeuePolicy
	now     func() time.Time
	// enqueue, when set, puts a retry back as a new item: on a durable
	// transport the intake released the original when it was published.
	enqueue Enqueuer
}

// Enqueuer adds items to the intake (at the tail).
type Enqueuer interface {
	Enqueue(ctx context.Context, items [][]byte) error
}

// EnqueuerIfReleasing is the intake's Enqueue when items are released as
// soon as a durable transport stores them (docs/architecture.md, settling
// the intake); retries are then new items. Nil on the in-process transport,
// or for an intake that cannot enqueue (its items stay held until their
// outcome).
func EnqueuerIfReleasing(durable bool, intake any) Enqueuer {
	if !durable {
		return nil
	}
	if e, ok := intake.(Enqueuer); ok {
		return e
	}
	return nil
}

// NewRequeue builds the requeue stage. enqueue is nil on the in-process
// transport (the held item is replaced by its retry); on a durable transport
// it is the intake, whose items were released when published.
func NewRequeue(settler Settler, policy RequeuePolicy, enqueue Enqueuer) *Requeue {
	return &Requeue{settler: settler, policy: policy, now: time.Now, enqueue: enqueue}
}

// Handle is the stage.
func (q *Requeue) Handle(ctx context.Context, w *pipeline.Work) (string, error) {
	if w.ReplayOf != "" {
		return "", nil // a replay holds nothing at the intake
	}
	sum := Summarize(w)
	s := pipeline.Settlement{Claim: w.Claim, Kind: pipeline.Release}
	if w.Outcome != nil && w.Outcome.Entry.Status == pipeline.StatusRetry {
		var it pipeline.Item
		if w.Request != nil {
			it = w.Request.Item
		} else {
			decoded, err := pipeline.DecodeItem(w.Raw)
			if err != nil {
				return "", fmt.Errorf("requeue %s: %w", w.CorrelationID, err)
			}
			it = decoded
		}
		delay := q.policy.Delay(it.Attempts)
		if p, ok := autoFixOf(w.Outcome.Entry.Metadata); ok {
			// An auto-fix retry runs at once, with the hints' recipes.
			delay = 0
			it.Recipes = pipeline.MergeRecipes(it.Recipes, p.Recipes)
			ids, _ := json.Marshal(p.HintIDs)
			extra := make(map[string]json.RawMessage, len(it.Extra)+1)
			for k, v := range it.Extra {
				extra[k] = v
			}
			extra[ItemAutoFixHints] = ids
			it.Extra = extra
		}
		it.Attempts++
		it.NotBefore = q.now().Add(delay).Unix()
		b, err := json.Marshal(it)
		if err != nil {
			return "", fmt.Errorf("requeue %s: encode item: %w", w.CorrelationID, err)
		}
		s.Kind, s.Item = pipeline.Requeue, b
		if q.enqueue != nil {
			if err := q.enqueue.Enqueue(ctx, [][]byte{b}); err != nil {
				return "", fmt.Errorf("requeue %s: %w", w.CorrelationID, err)
			}
			s.Kind, s.Item = pipeline.Done, nil
		}
		sum.Requeued = true
		sum.Detail = fmt.Sprintf("requeued as attempt %d after %s", it.Attempts+1, delay.Round(time.Second))
	}
	if q.enqueue != nil && s.Kind == pipeline.Release {
		s.Kind = pipeline.Done // released at publish already
	}
	q.settler.Submit(s, sum)
	return "", nil
}

// Summarize describes a Work in one line for drains and logs.
func Summarize(w *pipeline.Work) pipeline.Summary {
	s := pipeline.Summary{Claim: w.Claim, CorrelationID: w.CorrelationID}
	if w.Request != nil {
		s.Key = w.Request.Key()
		s.Name, s.Version = w.Request.Item.Package, w.Request.Version
	}
	switch {
	case w.Rejection != nil:
		s.Status = pipeline.StatusRejected
		raw := string(w.Raw)
		if len(raw) > 48 {
			raw = raw[:48] + "…"
		}
		s.Name = "item " + raw
		s.Detail = w.Rejection.Reason
		if w.Rejection.Field != "" {
			s.Detail = w.Rejection.Field + ": " + w.Rejection.Reason
		}
	case w.Outcome != nil:
		e := w.Outcome.Entry
		s.Status = string(e.Status)
		if e.Name != "" {
			s.Name, s.Version = e.Name, e.Version
		}
		if w.Outcome.Redelivered {
			s.Detail = "already recorded"
		} else if w.Result != nil {
			s.Detail = w.Result.Error
			if w.Result.Reason != "" && s.Detail == "" {
				s.Detail = w.Result.Reason
			}
			if r, ok := w.Result.Metadata[pipeline.MetaRunner].(string); ok && s.Detail == "" {
				s.Detail = "runner " + r
			}
			fd := w.Outcome.Failure // the Report stage's diagnosis line
			if fd == "" {
				fd = failureDetail(w.Result.Metadata)
			}
			if fd != "" {
				s.Detail = fd
			}
		}
	}
	return s
}
