package redisqueue

import (
	"context"
	"fmt"

	"github.com/refinery/refinery-worker/pipeline"
)

// Enqueue adds items at the tail of the list, as the control-plane does
// (`refinery-worker enqueue`, or a requeue whose original item was already
// released). An item whose numeric not_before is in the future goes to the
// delayed set instead and reaches the list when due. Items should be compact
// JSON; they are stored byte for byte.
func (q *Queue) Enqueue(ctx context.Context, items [][]byte) error {
	if q.closed() {
		return ErrClosed
	}
	if len(items) == 0 {
		return nil
	}
	args := make([]any, 0, 1+2*len(items))
	args = append(args, q.opts.Now().Unix())
	for _, it := range items {
		nb := int64(0)
		if f, ok := pipeline.ItemNotBefore(it); ok && f > 0 {
			nb = int64(min(f, 1e15))
		}
		args = append(args, nb, it)
	}
	if err := enqueueScript.Run(ctx, q.client, []string{q.key, q.delayed, q.seq}, args...).Err(); err != nil {
		return fmt.Errorf("enqueue %d items to %s: %w", len(items), q.key, err)
	}
	return nil
}
