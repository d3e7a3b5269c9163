package filequeue

import (
	"context"
	"errors"
	"fmt"
)

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
		next := append(append(make([][]byte, 0, len(cur)+len(add)), cur...), add...)
		if t.q.opts.MaxBytes > 0 {
			// Reserved items count: they are the queue's, taken ahead.
			size := len(encodeQueue(next))
			if res := t.q.reservedItems(); len(res) > 0 {
				size += len(encodeQueue(res))
			}
			if err := t.q.checkSize(int64(size)); err != nil {
				return fmt.Errorf("%d item(s) not added: %w", len(add), err)
			}
		}
		return t.setQueue(next)
	})
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	return nil
}

// EnqueueOnce opens the queue with o, appends items and closes it again (the
// `refinery-worker enqueue` command).
func EnqueueOnce(ctx context.Context, o Options, items [][]byte) error {
	q, err := Open(o)
	if err != nil {
		return err
	}
	return errors.Join(q.Enqueue(ctx, items), q.Close())
}
