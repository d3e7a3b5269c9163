package transport

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

type ctxKey struct{}

func newTestMessage(payload string) *message.Message {
	m := message.NewMessage(watermill.NewUUID(), []byte(payload))
	m.Metadata.Set("k", "v")
	m.SetContext(context.WithValue(context.Background(), ctxKey{}, payload))
	return m
}

// receive takes the next message of ch, failing after a while.
func receive(t *testing.T, ch <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10s")
	}
	return nil
}

// A subscriber gets each message with its payload, metadata and context; a
// nacked one comes again as a fresh copy until it is acked.
func TestLocalDeliversAndRedeliversOnNack(t *testing.T) {
	ps := newLocalPubSub()
	defer ps.Close()
	ch, err := ps.Subscribe(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	sent := newTestMessage("p1")
	if err := ps.Publish("t", sent); err != nil {
		t.Fatal(err)
	}
	var seen []*message.Message
	for attempt := range 3 {
		m := receive(t, ch)
		if m.UUID != sent.UUID || string(m.Payload) != "p1" || m.Metadata.Get("k") != "v" || m.Context().Value(ctxKey{}) != "p1" {
			t.Fatalf("attempt %d: got %s %q %v ctx %v", attempt, m.UUID, m.Payload, m.Metadata, m.Context().Value(ctxKey{}))
		}
		for _, s := range seen {
			if s == m {
				t.Fatalf("attempt %d: the nacked message itself came again", attempt)
			}
		}
		seen = append(seen, m)
		if attempt < 2 {
			m.Nack()
		} else {
			m.Ack()
		}
	}
	select {
	case m := <-ch:
		t.Fatalf("acked message came again: %s", m.UUID)
	case <-time.After(50 * time.Millisecond):
	}
}

// Every subscriber of a topic gets its own copy and acks it on its own; a
// topic without subscribers drops what is published to it.
func TestLocalFanOutAndDrop(t *testing.T) {
	ps := newLocalPubSub()
	defer ps.Close()
	if err := ps.Publish("t", newTestMessage("before")); err != nil {
		t.Fatal(err)
	}
	a, _ := ps.Subscribe(context.Background(), "t")
	b, _ := ps.Subscribe(context.Background(), "t")
	other, _ := ps.Subscribe(context.Background(), "other")
	if err := ps.Publish("t", newTestMessage("after")); err != nil {
		t.Fatal(err)
	}
	ma, mb := receive(t, a), receive(t, b)
	if ma == mb || string(ma.Payload) != "after" || string(mb.Payload) != "after" {
		t.Fatalf("a %p %q, b %p %q", ma, ma.Payload, mb, mb.Payload)
	}
	ma.Nack()
	mb.Ack()
	if again := receive(t, a); string(again.Payload) != "after" {
		t.Fatalf("a again: %q", again.Payload)
	} else {
		again.Ack()
	}
	for name, ch := range map[string]<-chan *message.Message{"a": a, "b": b, "other": other} {
		select {
		case m := <-ch:
			t.Errorf("%s got %q", name, m.Payload)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Ending a subscription's context closes its channel; deliveries waiting on
// it give up, and publishing goes on.
func TestLocalSubscriptionEnds(t *testing.T) {
	ps := newLocalPubSub()
	defer ps.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ch, _ := ps.Subscribe(ctx, "t")
	for i := range 3 {
		if err := ps.Publish("t", newTestMessage(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	receive(t, ch) // taken, never acked: its delivery waits
	cancel()
	for range ch { // drains what was buffered, then ends
	}
	if err := ps.Publish("t", newTestMessage("later")); err != nil {
		t.Fatal(err)
	}
}

// Close ends every subscription and returns once every delivery gave up;
// afterwards Publish and Subscribe fail and Close is a no-op.
func TestLocalClose(t *testing.T) {
	ps := newLocalPubSub()
	ch, _ := ps.Subscribe(context.Background(), "t")
	for i := range localOutputBuffer + 10 { // some deliveries block on a full channel
		if err := ps.Publish("t", newTestMessage(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	receive(t, ch)
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for range ch {
		n++
	}
	if n > localOutputBuffer {
		t.Errorf("%d messages after close", n)
	}
	if err := ps.Publish("t", newTestMessage("x")); err == nil {
		t.Error("Publish after Close succeeded")
	}
	if _, err := ps.Subscribe(context.Background(), "t"); err == nil {
		t.Error("Subscribe after Close succeeded")
	}
	if err := ps.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Many publishers, a consumer that nacks every other first delivery, and a
// Close while messages are in flight: each message is acked exactly once
// before the close, nothing panics (run with -race).
func TestLocalConcurrent(t *testing.T) {
	ps := newLocalPubSub()
	ch, _ := ps.Subscribe(context.Background(), "t")
	const publishers, each = 4, 500
	var acked sync.Map
	done := make(chan int)
	go func() {
		n := 0
		nacked := map[string]bool{}
		for m := range ch {
			if !nacked[m.UUID] && len(m.UUID)%2 == 0 {
				nacked[m.UUID] = true
				m.Nack()
				continue
			}
			if _, dup := acked.LoadOrStore(m.UUID, true); dup {
				t.Errorf("%s acked twice", m.UUID)
			}
			m.Ack()
			n++
			if n == publishers*each {
				done <- n
			}
		}
		close(done)
	}()
	var wg sync.WaitGroup
	for range publishers {
		wg.Go(func() {
			for range each {
				if err := ps.Publish("t", newTestMessage("x")); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := <-done; n != publishers*each {
		t.Fatalf("%d of %d acked", n, publishers*each)
	}
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
}

// Behind Watermill's router: a handler's error nacks and the message comes
// again with the context it was published with; the router's Close closes
// the pub/sub (once per handler) and returns.
func TestLocalUnderRouter(t *testing.T) {
	ps := newLocalPubSub()
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		payload, ctxValue string
		attempt           int
	}
	got := make(chan seen, 16)
	attempts := map[string]int{}
	var mu sync.Mutex
	r.AddConsumerHandler("first", "in", ps, func(m *message.Message) error {
		mu.Lock()
		attempts[m.UUID]++
		n := attempts[m.UUID]
		mu.Unlock()
		v, _ := m.Context().Value(ctxKey{}).(string)
		got <- seen{string(m.Payload), v, n}
		if n == 1 {
			return fmt.Errorf("first attempt fails")
		}
		return ps.Publish("out", newTestMessage("next"))
	})
	r.AddConsumerHandler("second", "out", ps, func(m *message.Message) error {
		got <- seen{string(m.Payload), "", 0}
		return nil
	})
	go func() { _ = r.Run(context.Background()) }()
	<-r.Running()
	if err := ps.Publish("in", newTestMessage("p")); err != nil {
		t.Fatal(err)
	}
	want := []seen{{"p", "p", 1}, {"p", "p", 2}, {"next", "", 0}}
	for i, w := range want {
		select {
		case g := <-got:
			if g != w {
				t.Errorf("delivery %d: %+v, want %+v", i, g, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("delivery %d never came", i)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ps.Publish("in", newTestMessage("late")); err == nil {
		t.Error("Publish after the router closed the pub/sub succeeded")
	}
}
