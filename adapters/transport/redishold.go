// The Redis holder of held topics: a per-job key that makes a job run once,
// and the result published together with the job marked done.

package transport

import (
	"context"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"
)

// pendingHolder is the Redis holder: the entry stays pending (kept alive)
// until the result is published, then it is acked. A key per correlation id
// (<stream>:jobs:<id> = the first message's id, then "done"; 24 h) makes a
// job run once: a message of the same id is a redelivery of it (its holder
// died or gave it back) and is taken; another message for the same
// correlation id (an upstream stage ran twice) or one for a done job is
// skipped.
type pendingHolder struct {
	c      *redis.Client
	prefix string
	maxLen int64 // MaxLen, as the publisher trims
	off    bool  // tests
}

// holdScript: KEYS job key; ARGV message id, ttl ms. Returns 1 to take.
var holdScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if v == ARGV[1] then return 1 end
return 0
`)

const jobMemory = 24 * time.Hour

func (h pendingHolder) hold(corr string, msg *message.Message) (*heldEntry, error) {
	ack := func() { msg.Ack() }
	if h.off {
		return &heldEntry{release: ack, abandon: func() {}}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := h.prefix + corr
	took, err := holdScript.Run(ctx, h.c, []string{key}, msg.UUID, jobMemory.Milliseconds()).Int()
	if err != nil {
		return nil, fmt.Errorf("hold job %s: %w", corr, err)
	}
	if took == 0 {
		return nil, errDuplicate
	}
	publish := func(topic string, result *message.Message) error { return h.publishDone(topic, key, result) }
	return &heldEntry{release: ack, abandon: func() {}, publish: publish}, nil
}

// publishDone adds the result to its stream and marks the job done in one
// MULTI/EXEC, so that no crash can leave one without the other: a result
// published while the job key still names the job's message would let the
// next owner of that message (after a kill -9) build the job again. The entry
// is the one redisstream's publisher writes (same marshaller, same trimming).
func (h pendingHolder) publishDone(topic, key string, result *message.Message) error {
	values, err := redisstream.DefaultMarshallerUnmarshaller{}.Marshal(topic, result)
	if err != nil {
		return fmt.Errorf("marshal result %s: %w", result.UUID, err)
	}
	ctx, cancel := context.WithTimeout(result.Context(), 10*time.Second)
	defer cancel()
	_, err = h.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAdd(ctx, &redis.XAddArgs{Stream: topic, Values: values, MaxLen: h.maxLen, Approx: true})
		p.Set(ctx, key, "done", jobMemory)
		return nil
	})
	if err != nil {
		return fmt.Errorf("publish result %s of a held job: %w", result.UUID, err)
	}
	return nil
}

func (pendingHolder) acked(*message.Message) {}
