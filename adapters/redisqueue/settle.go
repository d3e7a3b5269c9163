package redisqueue

import (
	"context"
	"fmt"

	"github.com/refinery/refinery-worker/pipeline"
)

// Settle applies settlements atomically, wherever their claims are held
// (a claim taken over by a peer is settled there). A claim that is no longer
// known (settled already, e.g. a retried batch) is skipped. Returns within a
// batch go back to the head in their batch order.
func (q *Queue) Settle(ctx context.Context, ss []pipeline.Settlement) error {
	if len(ss) == 0 {
		return nil
	}
	now := q.opts.Now().Unix()
	args := make([]any, 0, 2+4*len(ss))
	args = append(args, q.key, now)
	var returns []pipeline.Settlement
	for _, s := range ss {
		switch s.Kind {
		case pipeline.Release:
			args = append(args, "rel", s.Claim, "", 0)
		case pipeline.Requeue:
			nb := int64(0)
			if f, ok := pipeline.ItemNotBefore(s.Item); ok && f > 0 {
				nb = int64(min(f, 1e15)) // far future: kept, effectively never due
			}
			args = append(args, "req", s.Claim, s.Item, nb)
		case pipeline.Return:
			returns = append(returns, s)
		default:
			return fmt.Errorf("settle %s: unknown kind %d", s.Claim, s.Kind)
		}
	}
	for i := len(returns) - 1; i >= 0; i-- { // LPUSH reverses: push the last first
		args = append(args, "ret", returns[i].Claim, "", 0)
	}
	res, err := settleScript.Run(ctx, q.client, []string{q.key, q.claims, q.delayed}, args...).Int64Slice()
	if err != nil {
		return fmt.Errorf("settle %d items on %s: %w", len(ss), q.key, err)
	}
	unknown := 0
	for _, r := range res {
		if r == 0 {
			unknown++
		}
	}
	if unknown > 0 {
		q.log.Debug("settled claims that were no longer held", "claims", unknown)
	}
	return nil
}
