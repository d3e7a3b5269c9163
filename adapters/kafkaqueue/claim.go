package kafkaqueue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/refinery/refinery-worker/pipeline"
)

// Claim hands out up to max records: first those given back by Return, then
// held records that became due, then newly polled ones, waiting up to
// Options.Block when none is at hand. Records whose not_before is in the
// future are held back (see the package doc).
func (q *Queue) Claim(ctx context.Context, max int) ([]pipeline.Claimed, error) {
	if max <= 0 {
		return nil, nil
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil, ErrClosed
	}
	if q.draining {
		q.mu.Unlock()
		// A rebalance is waiting for what this instance holds to settle.
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
		}
		return nil, nil
	}
	now := q.opts.Now()
	out := q.takeLocal(max, now)
	q.mu.Unlock()
	if len(out) >= max {
		return out, nil
	}
	var fs kgo.Fetches
	if len(out) > 0 {
		//lint:ignore SA1012 kgo documents a nil context as "return what is buffered, without waiting".
		fs = q.cl.PollRecords(nil, max-len(out))
	} else {
		pctx, cancel := context.WithTimeout(ctx, q.opts.Block)
		fs = q.cl.PollRecords(pctx, max-len(out))
		cancel()
	}
	q.mu.Lock()
	for _, r := range fs.Records() {
		if r.Topic != q.opts.Topic {
			continue
		}
		pt := q.parts[r.Partition]
		if pt == nil {
			pt = &part{open: map[int64]openRec{}, next: r.Offset, committed: -1}
			q.parts[r.Partition] = pt
		}
		raw := pipeline.RawItem(r.Value)
		pt.open[r.Offset] = openRec{epoch: r.LeaderEpoch, raw: raw}
		if r.Offset >= pt.next {
			pt.next, pt.nextEpoch = r.Offset+1, r.LeaderEpoch
		}
		c := pipeline.Claimed{Claim: claimID(r.Topic, r.Partition, r.Offset), Raw: raw, ClaimedAt: now}
		if nb, ok := pipeline.ItemNotBefore(r.Value); ok && nb > float64(now.Unix()) {
			q.delayed = append(q.delayed, delayedRec{c: c, nb: nb})
			continue
		}
		out = append(out, c)
	}
	q.mu.Unlock()
	// A rebalance waits until what was claimed is settled (see onBlocked).
	q.allowIfSettled()
	if err := pollError(fs); err != nil && len(out) == 0 {
		return nil, err
	} else if err != nil {
		q.log.Warn("kafka poll", "err", err)
	}
	return out, nil
}

// takeLocal takes returned records, then due held ones. Caller holds mu.
func (q *Queue) takeLocal(max int, now time.Time) []pipeline.Claimed {
	var out []pipeline.Claimed
	n := min(max, len(q.again))
	out = append(out, q.again[:n]...)
	q.again = q.again[n:]
	kept := q.delayed[:0]
	for _, d := range q.delayed {
		if len(out) < max && d.nb <= float64(now.Unix()) {
			out = append(out, d.c)
			continue
		}
		kept = append(kept, d)
	}
	q.delayed = kept
	return out
}

func pollError(fs kgo.Fetches) error {
	var errs []error
	fs.EachError(func(t string, p int32, err error) {
		switch {
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		case errors.Is(err, kgo.ErrClientClosed):
			errs = append(errs, ErrClosed)
		default:
			errs = append(errs, fmt.Errorf("poll %s[%d]: %w", t, p, err))
		}
	})
	return errors.Join(errs...)
}
