package filequeue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/refinery/refinery-worker/pipeline"
)

// requeuedFromKey marks a requeued item with the claim it replaces, so that
// Recover can tell that a crash hit after the queue write of a Requeue.
const requeuedFromKey = "x_refinery_requeued_from"

// ErrUnknownClaim is wrapped by Settle's error for claims this instance does
// not hold (never claimed, already settled, or held by another owner).
var ErrUnknownClaim = errors.New("unknown claim")

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
		return t.setQueue(kept)
	})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return out, nil
}

// Settle ends holds, all under one lock with at most one queue write and one
// in-flight write: Release drops the held item; Requeue drops it and appends
// Settlement.Item (marked with "x_refinery_requeued_from": claim) at the tail;
// Return puts the original item back at the head, several in the order they
// were claimed. The queue is written before the in-flight file. Settlements
// that cannot apply (unknown claim, bad requeue item) are reported together in
// the error while the others are applied.
func (q *Queue) Settle(ctx context.Context, ss []pipeline.Settlement) error {
	if len(ss) == 0 {
		return nil
	}
	var bad []error
	requeued := make(map[string][]byte)
	for _, s := range ss {
		if s.Kind != pipeline.Requeue {
			continue
		}
		item, err := markRequeued(s.Item, s.Claim)
		if err != nil {
			bad = append(bad, fmt.Errorf("requeue %s: %w", s.Claim, err))
			continue
		}
		requeued[s.Claim] = item
	}
	err := q.do(ctx, func(t *txn) error {
		flight, err := t.inflight()
		if err != nil {
			return err
		}
		held := make(map[string]int, len(flight))
		for i, e := range flight {
			if e.Owner == q.owner {
				held[e.Claim] = i
			}
		}
		drop := make(map[int]bool, len(ss))
		var unknown []string
		var tail [][]byte
		var head []int
		for _, s := range ss {
			i, ok := held[s.Claim]
			if !ok || drop[i] {
				unknown = append(unknown, s.Claim)
				continue
			}
			switch s.Kind {
			case pipeline.Release:
			case pipeline.Requeue:
				item, ok := requeued[s.Claim]
				if !ok {
					continue // reported above; the hold stays
				}
				tail = append(tail, item)
			case pipeline.Return:
				head = append(head, i)
			default:
				bad = append(bad, fmt.Errorf("settle %s: unknown kind %d", s.Claim, s.Kind))
				continue
			}
			drop[i] = true
		}
		if len(unknown) > 0 {
			bad = append(bad, fmt.Errorf("%w: %s", ErrUnknownClaim, strings.Join(unknown, ", ")))
		}
		if len(drop) == 0 {
			return nil
		}
		if len(tail)+len(head) > 0 {
			items, err := t.queue()
			if err != nil {
				return err
			}
			slices.Sort(head) // in-flight order is claim order
			next := make([][]byte, 0, len(head)+len(items)+len(tail))
			for _, i := range head {
				next = append(next, flight[i].Item)
			}
			next = append(next, items...)
			next = append(next, tail...)
			if err := t.setQueue(next); err != nil {
				return err
			}
		}
		kept := make([]entry, 0, len(flight)-len(drop))
		for i, e := range flight {
			if !drop[i] {
				kept = append(kept, e)
			}
		}
		return t.setInflight(kept)
	})
	if err != nil {
		bad = append(bad, err)
	}
	if len(bad) > 0 {
		return fmt.Errorf("settle: %w", errors.Join(bad...))
	}
	return nil
}

// markRequeued validates a requeue item and adds the requeued-from marker. A
// non-object item (which the dequeue stage would reject anyway) is kept as it
// is, unmarked: a crash in the window may then duplicate it.
func markRequeued(item []byte, claim string) ([]byte, error) {
	if len(bytes.TrimSpace(item)) == 0 {
		return nil, errors.New("empty item")
	}
	c, err := compactItem(item)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if marked, ok := withField(c, requeuedFromKey, appendString(nil, claim)); ok {
		return marked, nil
	}
	return c, nil
}

// Enqueue appends items at the tail of the queue, in order, under the queue
// lock (the `refinery-worker enqueue` command). Every item must be valid
// JSON; if one is not, nothing is appended.
func (q *Queue) Enqueue(ctx context.Context, items [][]byte) error {
	if len(items) == 0 {
		return nil
	}
	add := make([][]byte, len(items))
	for i, it := range items {
		c, err := compactItem(it)
		if err != nil {
			return fmt.Errorf("enqueue: item %d is not valid JSON: %w", i, err)
		}
		add[i] = c
	}
	err := q.do(ctx, func(t *txn) error {
		cur, err := t.queue()
		if err != nil {
			return err
		}
		next := make([][]byte, 0, len(cur)+len(add))
		return t.setQueue(append(append(next, cur...), add...))
	})
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	return nil
}
