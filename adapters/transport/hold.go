package transport

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/refinery/refinery-worker/pipeline"
)

// Hold keeps the messages of one topic owned by this worker past the
// stage's ack, until the stage's result is published: the build stage acks
// at once and builds in the background. While the worker lives nobody else
// takes the message; when it dies, another worker processes it again after
// ClaimIdle. On Redis the message stays pending and is kept alive; on Kafka
// it is committed at once and a lease record stands for it (see the package
// doc).
type Hold struct {
	// Topic is the logical topic whose messages are held (pipeline.TopicJobs).
	Topic string
	// Until is the logical topic whose publication of a message with the same
	// correlation id (pipeline.MetaCorrelation) ends the hold
	// (pipeline.TopicResults).
	Until string
	// Slots is how many messages of Topic this worker takes at once
	// (BUILD_CONCURRENCY). ≥1. On Kafka a partition's messages still come one
	// at a time.
	Slots int
}

// holder is how a transport keeps a message.
type holder interface {
	// hold is called before the message is handed to the stage. An error
	// nacks the message; errDuplicate acks and skips it.
	hold(corr string, msg *message.Message) (*heldEntry, error)
	// acked is called when the stage acked its copy.
	acked(msg *message.Message)
}

// holds maps (until topic, correlation id) to the holds waiting for that
// publication.
type holds struct {
	mu sync.Mutex
	m  map[holdKey][]*heldEntry
}

type holdKey struct{ until, corr string }

// heldEntry is one held message. release ends the hold once the result is
// published, abandon when the stage nacked the message (it is delivered
// again). publish, when set, publishes the result and marks the job done in
// one step: a worker killed between publishing and marking would leave the
// job to whoever claims its message next, who would run it a second time.
type heldEntry struct {
	release, abandon func()
	publish          func(topic string, result *message.Message) error
}

func newHolds() *holds { return &holds{m: map[holdKey][]*heldEntry{}} }

func (h *holds) add(k holdKey, e *heldEntry) {
	h.mu.Lock()
	h.m[k] = append(h.m[k], e)
	h.mu.Unlock()
}

// take removes the oldest hold under k (nil when none).
func (h *holds) take(k holdKey) *heldEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.m[k]
	if len(l) == 0 {
		return nil
	}
	if len(l) == 1 {
		delete(h.m, k)
	} else {
		h.m[k] = l[1:]
	}
	return l[0]
}

// remove drops e from k (its message was nacked).
func (h *holds) remove(k holdKey, e *heldEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.m[k]
	for i, x := range l {
		if x == e {
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

// Len is the number of holds.
func (h *holds) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, l := range h.m {
		n += len(l)
	}
	return n
}

// holdingPublisher releases holds once their result is published.
type holdingPublisher struct {
	message.Publisher
	until map[string]bool // full topic names that end holds
	holds *holds
}

func (p *holdingPublisher) Publish(topic string, msgs ...*message.Message) error {
	if !p.until[topic] {
		return p.Publisher.Publish(topic, msgs...)
	}
	for _, m := range msgs {
		k := holdKey{topic, m.Metadata.Get(pipeline.MetaCorrelation)}
		e := p.holds.take(k)
		var err error
		if e != nil && e.publish != nil {
			err = e.publish(topic, m)
		} else {
			err = p.Publisher.Publish(topic, m)
		}
		if err != nil {
			if e != nil {
				p.holds.add(k, e) // still held: the stage publishes again
			}
			return err
		}
		if e != nil {
			e.release()
		}
	}
	return nil
}

// holdLoop passes messages of one inner subscription on as copies, holding
// each through hd: an ack of the copy leaves the message held (until its
// result is published), a nack ends the hold and nacks the message (the
// transport redelivers it). A message without a correlation id cannot be
// matched to its result: it is not held.
func holdLoop(ctx context.Context, in <-chan *message.Message, out chan<- *message.Message, until string,
	hd holder, hs *holds, closing <-chan struct{}, log *slog.Logger) {
	for msg := range in {
		corr := msg.Metadata.Get(pipeline.MetaCorrelation)
		k := holdKey{until, corr}
		var e *heldEntry
		if corr != "" {
			var err error
			e, err = hd.hold(corr, msg)
			if errors.Is(err, errDuplicate) {
				log.Info("skipped a second delivery of a held or finished job", "message", msg.UUID, "correlation_id", corr)
				msg.Ack()
				continue
			}
			if err != nil {
				log.Warn("hold message", "message", msg.UUID, "correlation_id", corr, "err", err)
				msg.Nack()
				continue
			}
			hs.add(k, e)
		}
		cp := message.NewMessage(msg.UUID, msg.Payload)
		for mk, mv := range msg.Metadata {
			cp.Metadata.Set(mk, mv)
		}
		cp.SetContext(msg.Context())
		select {
		case out <- cp:
		case <-closing:
			return
		case <-ctx.Done():
			return
		}
		select {
		case <-cp.Acked():
			if e == nil {
				log.Warn("message without correlation id is not held", "message", msg.UUID)
				msg.Ack()
				continue
			}
			hd.acked(msg)
		case <-cp.Nacked():
			if e != nil {
				hs.remove(k, e)
				e.abandon()
			}
			msg.Nack()
		case <-closing:
			return
		case <-ctx.Done():
			return
		}
	}
}
