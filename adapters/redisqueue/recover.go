package redisqueue

import (
	"context"
	"fmt"

	"github.com/refinery/refinery-worker/pipeline"
)

// Recover takes over, in one atomic step, the items held by every owner
// whose liveness key expired (or who closed), keeping their claims, and
// returns them; they are now held by this instance.
func (q *Queue) Recover(ctx context.Context) ([]pipeline.Claimed, error) {
	if q.closed() {
		return nil, ErrClosed
	}
	res, err := recoverScript.Run(ctx, q.client, []string{q.owners, q.claims, q.seq}, q.key, q.owner).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("recover items of dead workers on %s: %w", q.key, err)
	}
	now := q.opts.Now()
	got := pairs(res)
	out := make([]pipeline.Claimed, 0, len(got))
	for _, h := range got {
		out = append(out, pipeline.Claimed{Claim: h.claim, Raw: pipeline.RawItem([]byte(h.raw)), ClaimedAt: now})
	}
	if len(out) > 0 {
		q.log.Info("recovered items of dead workers", "items", len(out))
	}
	return out, nil
}
