package transport

import (
	"context"
	"errors"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
)

// localOutputBuffer is how many delivered, not yet read messages a
// subscription's channel holds.
const localOutputBuffer = 1024

// errLocalClosed is Publish or Subscribe after Close.
var errLocalClosed = errors.New("in-process pub/sub closed")

// localPubSub is the in-process transport's Watermill Publisher and
// Subscriber. It behaves as gochannel with PreserveContext and without
// persistence: every subscriber of a topic gets each message published to it
// after it subscribed (a topic without subscribers drops it), a nacked
// message is delivered again as a fresh copy, and the message's context goes
// with it. What it leaves out is what the pipeline never needs: gochannel
// copies each message once more before delivering it, takes a per-topic lock
// from a sync.Map (allocating a mutex per publish), builds log fields per
// message and starts a second goroutine to wait for the deliveries; here a
// publish starts one goroutine per subscriber and nothing else, and the
// first delivery to a topic's only subscriber is the published message
// itself (the publisher never touches a message again).
type localPubSub struct {
	mu      sync.RWMutex
	subs    map[string][]*localSub
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup // deliveries and subscription closers
}

// localSub is one subscription: its channel, closed once the subscription
// ends and no delivery can send on it any more.
type localSub struct {
	topic   string
	out     chan *message.Message
	ending  chan struct{} // closed when the subscription ends
	sending sync.Mutex    // held while sending on out; out is closed under it
	ended   bool
}

func newLocalPubSub() *localPubSub {
	return &localPubSub{subs: map[string][]*localSub{}, closing: make(chan struct{})}
}

// Publish hands each message to every current subscriber of topic. It does
// not wait for the deliveries.
func (p *localPubSub) Publish(topic string, msgs ...*message.Message) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errLocalClosed
	}
	subs := p.subs[topic]
	for _, m := range msgs {
		// The context as published: a router adds its values to the
		// context of the message it is handed.
		ctx := m.Context()
		for _, s := range subs {
			first := m
			if len(subs) > 1 {
				first = copyWithContext(ctx, m)
			}
			p.wg.Add(1)
			go p.deliver(ctx, s, m, first)
		}
	}
	return nil
}

// deliver sends msg to s until s acks it; a nack sends a fresh copy of orig
// with the context ctx (the message's, as published). It gives up when s
// ends.
func (p *localPubSub) deliver(ctx context.Context, s *localSub, orig, msg *message.Message) {
	defer p.wg.Done()
	for {
		s.sending.Lock()
		if s.ended {
			s.sending.Unlock()
			return
		}
		select {
		case s.out <- msg:
		case <-s.ending:
			s.sending.Unlock()
			return
		}
		s.sending.Unlock()
		select {
		case <-msg.Acked():
			return
		case <-msg.Nacked():
			msg = copyWithContext(ctx, orig)
		case <-s.ending:
			return
		}
	}
}

func copyWithContext(ctx context.Context, m *message.Message) *message.Message {
	c := m.Copy()
	c.SetContext(ctx)
	return c
}

// Subscribe returns the channel of topic's messages; it is closed when ctx
// ends or the pub/sub closes.
func (p *localPubSub) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errLocalClosed
	}
	s := &localSub{topic: topic, out: make(chan *message.Message, localOutputBuffer), ending: make(chan struct{})}
	p.subs[topic] = append(p.subs[topic], s)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case <-ctx.Done():
		case <-p.closing:
		}
		p.unsubscribe(s)
	}()
	return s.out, nil
}

// unsubscribe ends s: no new delivery reaches it, waiting ones give up, and
// its channel is closed.
func (p *localPubSub) unsubscribe(s *localSub) {
	p.mu.Lock()
	subs := p.subs[s.topic]
	for i, x := range subs {
		if x == s {
			p.subs[s.topic] = append(subs[:i:i], subs[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	close(s.ending)
	s.sending.Lock()
	s.ended = true
	close(s.out)
	s.sending.Unlock()
}

// Close ends every subscription and waits for the deliveries to give up.
func (p *localPubSub) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.closing)
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}
