package kafkaqueue

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Enqueue produces items to the topic as the control-plane does: one record
// per item, the item as the value, no key, no headers (`refinery-worker
// enqueue`, or a requeue whose original record was already settled). It
// returns once every record is acknowledged by all in-sync replicas.
func (q *Queue) Enqueue(ctx context.Context, items [][]byte) error {
	if q.isClosed() {
		return ErrClosed
	}
	if len(items) == 0 {
		return nil
	}
	rs := make([]*kgo.Record, len(items))
	for i, it := range items {
		rs[i] = &kgo.Record{Topic: q.opts.Topic, Value: it}
	}
	if err := q.cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		return fmt.Errorf("enqueue %d items to %s: %w", len(items), q.opts.Topic, err)
	}
	return nil
}
