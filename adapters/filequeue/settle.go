package filequeue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/refinery/refinery-worker/pipeline"
)

// requeuedFromKey marks a requeued item with the claim it replaces, so that
// Recover (and a retried Settle) can tell that the requeue reached the queue.
const requeuedFromKey = "x_refinery_requeued_from"

// rememberSettled is how many recently settled claims an instance remembers,
// so that settling them again (a caller retrying a whole batch after an
// error) is a no-op rather than an unknown claim.
const rememberSettled = 1 << 16

// ErrUnknownClaim is wrapped by a [*SettleError] with unknown claims.
var ErrUnknownClaim = errors.New("unknown claim")

// SettleError lists the settlements of a batch that were not applied; every
// other settlement of the batch was applied.
type SettleError struct {
	// Unknown claims are not held by this instance: never claimed by it, held
	// by another owner, or settled too long ago to be remembered. Retrying
	// them cannot succeed.
	Unknown []string
	// Invalid maps claims to why their settlement was refused (a requeue item
	// that is not valid JSON, an unknown kind). The hold stays.
	Invalid map[string]error
}

func (e *SettleError) Error() string {
	var parts []string
	if len(e.Unknown) > 0 {
		parts = append(parts, fmt.Sprintf("%v: %s", ErrUnknownClaim, strings.Join(e.Unknown, ", ")))
	}
	claims := make([]string, 0, len(e.Invalid))
	for c := range e.Invalid {
		claims = append(claims, c)
	}
	sort.Strings(claims)
	for _, c := range claims {
		parts = append(parts, fmt.Sprintf("claim %s: %v", c, e.Invalid[c]))
	}
	return strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrUnknownClaim) true when claims are unknown.
func (e *SettleError) Unwrap() error {
	if len(e.Unknown) > 0 {
		return ErrUnknownClaim
	}
	return nil
}

// NotApplied lists every claim of the batch that was not applied.
func (e *SettleError) NotApplied() []string {
	out := slices.Clone(e.Unknown)
	for c := range e.Invalid {
		out = append(out, c)
	}
	return out
}

// Settle ends holds, all under one lock with at most one queue write and one
// in-flight write: Release drops the held item; Requeue drops it and appends
// Settlement.Item (marked with "x_refinery_requeued_from": claim) at the tail;
// Return puts the original item back at the head, several in the order they
// were claimed, followed by the instance's reserve (the items it took from
// the queue but has not handed out). The queue is written before the
// in-flight file.
//
// Settlements that cannot apply are reported in a *SettleError (wrapped)
// while the others are applied. Any other error means a file could not be
// read or written: retrying the same batch is then safe; claims this instance
// settled recently are skipped, and a requeue whose item already reached the
// queue is not appended twice (a Return may be, if the queue write succeeded
// and the in-flight write failed).
func (q *Queue) Settle(ctx context.Context, ss []pipeline.Settlement) error {
	return q.SettleAfter(ctx, ss, nil)
}

// SettleAfter is Settle with before first: nothing the batch changes is
// visible (no file is renamed into place) until before has returned nil; if
// it fails, the batch is not applied and its error is returned. before makes
// the batch's outcomes durable (pipeline.SettleAfterSync) and runs beside the
// new in-flight file's temp write and fsync, which no reader sees until its
// rename: a batch of releases at rest waits for the longer of the two
// fsyncs, not for both. A batch that rewrites the queue (a requeue or a
// return) waits for before first. The queue lock is held while it waits: a
// before much slower than the in-flight write (a manifest on a slower disk
// than the queue) holds other workers' claims on this queue that long. A nil
// before is Settle.
func (q *Queue) SettleAfter(ctx context.Context, ss []pipeline.Settlement, before func() error) error {
	if len(ss) == 0 {
		return nil
	}
	gate := startGate(before)
	defer gate.wait() // never leave before running
	serr := &SettleError{Invalid: map[string]error{}}
	requeued := make(map[string][]byte)
	for _, s := range ss {
		if s.Kind != pipeline.Requeue {
			continue
		}
		item, err := markRequeued(s.Item, s.Claim)
		if err != nil {
			serr.Invalid[s.Claim] = fmt.Errorf("requeue: %w", err)
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
		var tail []string // claims, in order
		var head []int
		for _, s := range ss {
			i, ok := held[s.Claim]
			if !ok {
				if !q.settled.has(s.Claim) { // else: a retry of a settled claim
					serr.Unknown = append(serr.Unknown, s.Claim)
				}
				continue
			}
			if drop[i] {
				continue // twice in one batch: the first one counts
			}
			switch s.Kind {
			case pipeline.Release:
			case pipeline.Requeue:
				if _, ok := requeued[s.Claim]; !ok {
					continue // invalid; the hold stays
				}
				tail = append(tail, s.Claim)
			case pipeline.Return:
				head = append(head, i)
			default:
				serr.Invalid[s.Claim] = fmt.Errorf("unknown settle kind %d", s.Kind)
				continue
			}
			drop[i] = true
		}
		if len(drop) == 0 {
			return gate.wait()
		}
		if len(tail)+len(head) > 0 {
			if err := gate.wait(); err != nil {
				return err
			}
			if err := t.settleQueue(flight, head, tail, requeued); err != nil {
				return err
			}
		}
		kept := make([]entry, 0, len(flight)-len(drop))
		for i, e := range flight {
			if !drop[i] {
				kept = append(kept, e)
			}
		}
		if err := t.setInflightAfter(kept, gate.wait); err != nil {
			return err
		}
		for i := range drop {
			q.settled.add(flight[i].Claim)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	if len(serr.Unknown)+len(serr.Invalid) > 0 {
		return fmt.Errorf("settle: %w", serr)
	}
	return nil
}

// settleQueue writes the queue with the returned items at the head and the
// requeued ones at the tail, skipping requeues already in the queue (a retry
// after a failed in-flight write).
func (t *txn) settleQueue(flight []entry, head []int, tail []string, requeued map[string][]byte) error {
	items, err := t.queue()
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, it := range items {
		if !bytes.Contains(it, []byte(requeuedFromKey)) {
			continue
		}
		if v, ok := field(it, requeuedFromKey); ok {
			present[string(v)] = true
		}
	}
	slices.Sort(head) // in-flight order is claim order
	front := make([][]byte, 0, len(head))
	for _, i := range head {
		front = append(front, flight[i].Item)
	}
	next := make([][]byte, 0, len(items)+len(tail))
	next = append(next, items...)
	for _, c := range tail {
		if !present[string(appendString(nil, c))] {
			next = append(next, requeued[c])
		}
	}
	if len(front) > 0 && t.q.resBroken == nil {
		// Returned items were claimed before the reserved ones: the reserve
		// goes back too, behind them, so the queue's order is kept.
		return t.restoreOwn(front, next)
	}
	return t.setQueue(append(front, next...))
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

// claimRing remembers the last claims added to it (a fixed-size ring).
type claimRing struct {
	set  map[string]struct{}
	ring []string
	next int
}

func (r *claimRing) has(c string) bool {
	_, ok := r.set[c]
	return ok
}

func (r *claimRing) add(c string) {
	if r.set == nil {
		r.set = make(map[string]struct{})
		r.ring = make([]string, rememberSettled)
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = c
	r.set[c] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
}
