package kafkaqueue

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/refinery/refinery-worker/pipeline"
)

// Settle applies settlements: requeued items are produced first (a failed
// produce marks nothing), then the records are marked settled and the
// partitions' commit points committed synchronously. Claims no longer
// tracked (settled already, or of a revoked partition) are skipped.
func (q *Queue) Settle(ctx context.Context, ss []pipeline.Settlement) error {
	if len(ss) == 0 {
		return nil
	}
	var produce []*kgo.Record
	var produced []pipeline.Settlement
	q.mu.Lock()
	for _, s := range ss {
		if s.Kind == pipeline.Requeue && q.tracked(s.Claim) {
			produce = append(produce, &kgo.Record{Topic: q.opts.Topic, Value: s.Item})
			produced = append(produced, s)
		}
	}
	q.mu.Unlock()
	var errs []error
	failed := map[string]bool{}
	if len(produce) > 0 {
		for i, r := range q.cl.ProduceSync(ctx, produce...) {
			if r.Err != nil {
				failed[produced[i].Claim] = true
				errs = append(errs, fmt.Errorf("requeue %s to %s: %w", produced[i].Claim, q.opts.Topic, r.Err))
			}
		}
	}
	q.mu.Lock()
	for _, s := range ss {
		p, off, ok := parseClaim(s.Claim)
		pt := q.parts[p]
		if !ok || pt == nil || failed[s.Claim] {
			continue
		}
		rec, held := pt.open[off]
		if !held {
			continue
		}
		switch s.Kind {
		case pipeline.Release, pipeline.Requeue:
			delete(pt.open, off)
		case pipeline.Return:
			q.again = append(q.again, pipeline.Claimed{Claim: s.Claim, Raw: rec.raw, ClaimedAt: q.opts.Now()})
		}
	}
	// Every partition whose commit point moved, not only those touched here:
	// a commit that failed earlier is retried by the next Settle.
	commits := map[int32]kgo.EpochOffset{}
	for p, pt := range q.parts {
		if eo, ok := pt.commitPoint(); ok {
			commits[p] = eo
		}
	}
	q.mu.Unlock()
	if len(commits) > 0 {
		if err := q.commit(ctx, commits); err != nil {
			errs = append(errs, err)
		}
	}
	q.allowIfSettled()
	return errors.Join(errs...)
}

// tracked says whether the claim is held and unsettled. Caller holds mu.
func (q *Queue) tracked(claim string) bool {
	p, off, ok := parseClaim(claim)
	if !ok || q.parts[p] == nil {
		return false
	}
	_, held := q.parts[p].open[off]
	return held
}
