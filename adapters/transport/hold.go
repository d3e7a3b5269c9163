package transport

import (
	"context"
	"log/slog"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/refinery/refinery-worker/pipeline"
)

// Hold keeps the messages of one topic unacknowledged on the transport
// until the stage's result is published, while the stage itself acks at
// once and works on in the background (the build stage). On Redis the held
// entries stay pending under this worker's consumer and are kept alive, so no
// other worker claims them while this one lives; if it dies, they are claimed
// after ClaimIdle and processed again.
type Hold struct {
	// Topic is the logical topic whose messages are held (pipeline.TopicJobs).
	Topic string
	// Until is the logical topic whose publication of a message with the same
	// correlation id (pipeline.MetaCorrelation) ends the hold
	// (pipeline.TopicResults).
	Until string
	// Slots is how many messages may be held at once by this worker
	// (BUILD_CONCURRENCY); it is also how many are read concurrently. ≥1.
	Slots int
}

// holds maps (until topic, correlation id) to the transport messages waiting
// for that publication.
type holds struct {
	mu sync.Mutex
	m  map[holdKey][]*message.Message
}

type holdKey struct{ until, corr string }

func newHolds() *holds { return &holds{m: map[holdKey][]*message.Message{}} }

func (h *holds) add(k holdKey, msg *message.Message) {
	h.mu.Lock()
	h.m[k] = append(h.m[k], msg)
	h.mu.Unlock()
}

// take removes the oldest message held under k (nil when none).
func (h *holds) take(k holdKey) *message.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.m[k]
	if len(l) == 0 {
		return nil
	}
	msg := l[0]
	if len(l) == 1 {
		delete(h.m, k)
	} else {
		h.m[k] = l[1:]
	}
	return msg
}

// remove drops msg from k (it was nacked).
func (h *holds) remove(k holdKey, msg *message.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.m[k]
	for i, m := range l {
		if m == msg {
			l = append(l[:i:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(h.m, k)
	} else {
		h.m[k] = l
	}
}

// Len is the number of messages held.
func (h *holds) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, l := range h.m {
		n += len(l)
	}
	return n
}

// holdingPublisher acks held messages once their result is published.
type holdingPublisher struct {
	message.Publisher
	until map[string]bool // full topic names that end holds
	holds *holds
}

func (p *holdingPublisher) Publish(topic string, msgs ...*message.Message) error {
	if err := p.Publisher.Publish(topic, msgs...); err != nil {
		return err
	}
	if p.until[topic] {
		for _, m := range msgs {
			if held := p.holds.take(holdKey{topic, m.Metadata.Get(pipeline.MetaCorrelation)}); held != nil {
				held.Ack()
			}
		}
	}
	return nil
}

// holdLoop passes messages of one inner subscription on as copies: an ack of
// the copy leaves the original held (until its result is published), a nack
// nacks the original (the transport redelivers it).
func holdLoop(ctx context.Context, in <-chan *message.Message, out chan<- *message.Message, until string,
	hs *holds, closing <-chan struct{}, log *slog.Logger) {
	for msg := range in {
		cp := message.NewMessage(msg.UUID, msg.Payload)
		for k, v := range msg.Metadata {
			cp.Metadata.Set(k, v)
		}
		cp.SetContext(msg.Context())
		corr := msg.Metadata.Get(pipeline.MetaCorrelation)
		k := holdKey{until, corr}
		if corr != "" {
			hs.add(k, msg)
		}
		select {
		case out <- cp:
		case <-closing:
			return
		case <-ctx.Done():
			return
		}
		select {
		case <-cp.Acked():
			if corr == "" {
				log.Warn("held message without correlation id acked at once", "message", msg.UUID)
				msg.Ack()
			}
		case <-cp.Nacked():
			if corr != "" {
				hs.remove(k, msg)
			}
			msg.Nack()
		case <-closing:
			return
		case <-ctx.Done():
			return
		}
	}
}
