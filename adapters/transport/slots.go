package transport

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/refinery/refinery-worker/pipeline/retry"
)

// slotReader reads a held stream for one slot: it takes an entry only when
// the slot is free (its previous message was released or given back), so a
// busy worker never sits on entries another worker could start at once
// (redisstream reads one entry ahead of its handler). It first claims an
// entry idle for ClaimIdle (a dead worker's, or one whose read reply was
// lost), else reads a new one, blocking at most a second. A released message
// is acked (XACK); a nacked one is delivered again after NackResendSleep.
func (s *redisSubscriber) slotReader(ctx context.Context, c *redis.Client, stream string, out chan<- *message.Message) {
	defer s.wg.Done()
	defer close(out)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	var um redisstream.DefaultMarshallerUnmarshaller
	// A failed read is retried after 500ms doubling to 5s, without bound,
	// until the reader stops; a successful read starts again from 500ms.
	policy := retry.Policy{Initial: 500 * time.Millisecond, Max: 5 * time.Second}
	failures := 0
	for ctx.Err() == nil {
		x, err := s.nextEntry(ctx, c, stream)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			wait := policy.Delay(failures)
			s.log.Warn("read held stream", "stream", stream, "err", err, "retry_in", wait)
			if policy.Sleep(ctx, wait) != nil {
				return
			}
			continue
		}
		failures = 0
		if x == nil {
			continue
		}
		msg, err := um.Unmarshal(x.Values)
		if err != nil { // not a watermill message at all: nothing can process it
			s.log.Error("undecodable stream entry acked", "stream", stream, "id", x.ID, "err", err)
			s.ack(ctx, c, stream, x.ID)
			continue
		}
		s.received.add(stream, x.ID)
		if !s.deliver(ctx, msg, out) {
			return
		}
		s.ack(ctx, c, stream, x.ID)
	}
}

// deliver hands msg to the slot until it is released (true) or the
// subscriber closes (false; the entry stays pending).
func (s *redisSubscriber) deliver(ctx context.Context, msg *message.Message, out chan<- *message.Message) bool {
	for {
		mctx, cancel := context.WithCancel(ctx)
		msg.SetContext(mctx)
		select {
		case out <- msg:
		case <-ctx.Done():
			cancel()
			return false
		}
		select {
		case <-msg.Acked():
			cancel()
			return true
		case <-msg.Nacked():
			cancel()
			// A constant wait (the watermill subscribers' NackResendSleep),
			// on the one retry policy.
			if (retry.Policy{Initial: s.opts.NackResendSleep, Max: s.opts.NackResendSleep}).Wait(ctx, 1) != nil {
				return false
			}
			msg = msg.Copy()
		case <-ctx.Done():
			cancel()
			return false
		}
	}
}

// nextEntry claims one idle entry or reads one new entry (nil when none).
func (s *redisSubscriber) nextEntry(ctx context.Context, c *redis.Client, stream string) (*redis.XMessage, error) {
	claimed, _, err := c.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: stream, Group: s.opts.Group,
		Consumer: s.opts.Consumer, MinIdle: s.opts.ClaimIdle, Start: "0-0", Count: 1}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	if len(claimed) > 0 {
		return &claimed[0], nil
	}
	xs, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: s.opts.Group, Consumer: s.opts.Consumer,
		Streams: []string{stream, ">"}, Count: 1, Block: time.Second}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(xs) == 0 || len(xs[0].Messages) == 0 {
		return nil, nil
	}
	return &xs[0].Messages[0], nil
}

// ack acks an entry, retrying until it succeeds or the subscriber closes (the
// entry then stays pending and is claimed by another worker): 100ms doubling
// to 5s between attempts, without bound.
func (s *redisSubscriber) ack(ctx context.Context, c *redis.Client, stream, id string) {
	_ = retry.Do(ctx, retry.Policy{Initial: 100 * time.Millisecond, Max: 5 * time.Second}, func(ctx context.Context) error {
		return c.XAck(ctx, stream, s.opts.Group, id).Err()
	}, func(r retry.Retry) {
		s.log.Warn("ack held entry", "stream", stream, "id", id, "attempt", r.Attempt, "retry_in", r.Wait, "err", r.Err)
	})
}

// createGroup creates the stream's consumer group at its start (and the
// stream) unless it exists.
func createGroup(ctx context.Context, c *redis.Client, stream, group string) error {
	err := c.XGroupCreateMkStream(ctx, stream, group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	return nil
}
