package redisqueue

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/refinery/refinery-worker/pipeline"
)

// Claim takes up to max items from the head of the list, in order. When the
// list is empty it waits up to Options.Block for one to arrive, then returns
// what there is, possibly nothing. Items whose numeric not_before is in the
// future are put into the delayed set instead of being handed out.
func (q *Queue) Claim(ctx context.Context, max int) ([]pipeline.Claimed, error) {
	if q.closed() {
		return nil, ErrClosed
	}
	if max <= 0 {
		return nil, nil
	}
	got, err := q.claimNow(ctx, max)
	if err != nil {
		return nil, err
	}
	if len(got) == 0 && q.opts.Block > 0 {
		raw, err := q.client.BLMove(ctx, q.key, q.proc, "LEFT", "RIGHT", q.opts.Block).Result()
		switch {
		case errors.Is(err, redis.Nil):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("claim from redis list %s: %w", q.key, err)
		}
		c, err := registerScript.Run(ctx, q.client, []string{q.held, q.claims, q.seq}, raw, q.owner).Text()
		if err != nil {
			// The item stays in the processing list: recovery hands it out.
			return nil, fmt.Errorf("register claim in %s: %w", q.held, err)
		}
		got = append(got, held{claim: c, raw: raw})
		if max > 1 {
			more, err := q.claimNow(ctx, max-1)
			if err != nil {
				q.log.Warn("claim more after a blocking move", "err", err)
			}
			got = append(got, more...)
		}
	}
	now := q.opts.Now()
	out := make([]pipeline.Claimed, 0, len(got))
	var later []pipeline.Settlement
	for _, h := range got {
		if nb, ok := pipeline.ItemNotBefore([]byte(h.raw)); ok && nb > float64(now.Unix()) {
			later = append(later, pipeline.Settlement{Claim: h.claim, Kind: pipeline.Requeue, Item: []byte(h.raw)})
			continue
		}
		out = append(out, pipeline.Claimed{Claim: h.claim, Raw: pipeline.RawItem([]byte(h.raw)), ClaimedAt: now})
	}
	if len(later) > 0 {
		if err := q.Settle(ctx, later); err != nil {
			// They stay held by this instance; a later Recover by a peer
			// after this one dies, or a retry, moves them on.
			q.log.Warn("delay items not yet due", "items", len(later), "err", err)
		}
	}
	return out, nil
}

type held struct{ claim, raw string }

func (q *Queue) claimNow(ctx context.Context, max int) ([]held, error) {
	res, err := claimScript.Run(ctx, q.client,
		[]string{q.key, q.proc, q.held, q.claims, q.seq, q.delayed},
		max, q.opts.Now().Unix(), q.owner).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("claim from redis list %s: %w", q.key, err)
	}
	return pairs(res), nil
}

func pairs(res []string) []held {
	out := make([]held, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		out = append(out, held{claim: res[i], raw: res[i+1]})
	}
	return out
}
