package filequeue

import (
	"context"
	"fmt"

	"github.com/refinery/refinery-worker/pipeline"
)

// Claim takes up to max items, in queue order, whose not_before (Unix seconds,
// absent or non-numeric = ready) is not in the future; items not yet due stay
// in place and do not block those behind them. Items are handed out as they
// are (compacted), whatever their type. It returns at once, possibly with
// nothing.
//
// Items come from this instance's reserve (reserve.go); when it holds fewer
// than max, a batch is first moved into it from the head of the queue. Cost:
// a write of the in-flight file and of the reserve's header; a read and one
// rewrite of the queue only when the reserve is refilled (once per 1/16 of
// the queue, at most 4,096 items). When the reserve is empty and the queue
// short enough that a refill would move no more than max items, they are
// claimed without the reserve (direct.go): the in-flight file, then the
// queue.
func (q *Queue) Claim(ctx context.Context, max int) ([]pipeline.Claimed, error) {
	if max <= 0 {
		return nil, nil
	}
	var out []pipeline.Claimed
	err := q.do(ctx, func(t *txn) error {
		if q.resBroken != nil {
			return q.resBroken
		}
		var es []entry
		n := len(q.res.left())
		direct := false
		if n == 0 {
			var err error
			if es, direct, err = t.claimDirect(max); err != nil {
				return err
			}
		}
		if !direct {
			if n < max {
				if err := t.refill(max - n); err != nil {
					return err
				}
			}
			if len(q.res.left()) == 0 {
				return nil
			}
			flight, err := t.inflight()
			if err != nil {
				return err
			}
			if es, err = t.dispense(max, flight); err != nil {
				return err
			}
		}
		out = make([]pipeline.Claimed, len(es))
		for i, e := range es {
			out[i] = pipeline.Claimed{Claim: e.Claim, Raw: e.Item, ClaimedAt: e.ClaimedAt}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return out, nil
}
