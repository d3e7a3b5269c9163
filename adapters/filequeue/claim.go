package filequeue

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/refinery/refinery-worker/pipeline"
)

// Claim takes up to max items, in queue order, whose not_before (Unix seconds,
// absent or non-numeric = ready) is not in the future; items not yet due stay
// in place and do not block those behind them. Items are handed out as they
// are (compacted), whatever their type. It returns at once, possibly with
// nothing. Cost: one read and parse of both files, at most one write of each.
func (q *Queue) Claim(ctx context.Context, max int) ([]pipeline.Claimed, error) {
	if max <= 0 {
		return nil, nil
	}
	var out []pipeline.Claimed
	err := q.do(ctx, func(t *txn) error {
		items, err := t.queue()
		if err != nil {
			return err
		}
		now := q.opts.Now()
		var taken []int
		for i, it := range items {
			if len(taken) == max {
				break
			}
			if due(it, now) {
				taken = append(taken, i)
			}
		}
		if len(taken) == 0 {
			return nil
		}
		flight, err := t.inflight()
		if err != nil {
			return err
		}
		newFlight := slices.Grow(slices.Clip(flight), len(taken))
		out = make([]pipeline.Claimed, 0, len(taken))
		for _, i := range taken {
			raw := bytes.Clone(items[i])
			c := pipeline.Claimed{Claim: randHex(16), Raw: raw, ClaimedAt: now}
			newFlight = append(newFlight, entry{Claim: c.Claim, Owner: q.owner, ClaimedAt: now, Item: raw})
			out = append(out, c)
		}
		kept := make([][]byte, 0, len(items)-len(taken))
		next := 0
		for i, it := range items {
			if next < len(taken) && taken[next] == i {
				next++
				continue
			}
			kept = append(kept, it)
		}
		// In-flight first: a crash between the writes duplicates, never loses.
		if err := t.setInflight(newFlight); err != nil {
			return err
		}
		if err := t.setQueue(kept); err != nil {
			// The caller gets no claims: drop the holds again (if this fails
			// too, Recover drops them once this owner is gone, as the items
			// are still queued).
			if rerr := t.setInflight(flight); rerr != nil {
				q.log.Error("undo in-flight write after a failed queue write", "err", rerr)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return out, nil
}
