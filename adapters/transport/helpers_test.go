package transport

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/refinery/refinery-worker/pipeline"
)

func newMsg(corr string) *message.Message {
	m := message.NewMessage(watermill.NewUUID(), []byte(`{"correlation_id":"`+corr+`"}`))
	m.Metadata.Set(pipeline.MetaCorrelation, corr)
	return m
}

// startRouter runs r until the test ends.
func startRouter(t testing.TB, r *message.Router) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	select {
	case <-r.Running():
	case err := <-done:
		t.Fatalf("router: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("router did not start")
	}
	t.Cleanup(func() { _ = r.Close(); <-done })
}

func newRouter(t testing.TB) *message.Router {
	t.Helper()
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 5 * time.Second}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// chainTopics are the six logical topics of the bare chain plus its sink.
var chainTopics = []string{"chain.1", "chain.2", "chain.3", "chain.4", "chain.5", "chain.6"}

// startChain runs six handlers that only forward (the last one reports the
// correlation id of each arrival on the returned channel).
func startChain(t testing.TB, tr pipeline.Transport, buffer int) <-chan string {
	t.Helper()
	r := newRouter(t)
	arrived := make(chan string, buffer)
	for i, topic := range chainTopics {
		name := tr.Topics.Name(topic)
		if i == len(chainTopics)-1 {
			r.AddConsumerHandler("h"+topic, name, tr.Subscriber, func(m *message.Message) error {
				arrived <- m.Metadata.Get(pipeline.MetaCorrelation)
				return nil
			})
			continue
		}
		next := tr.Topics.Name(chainTopics[i+1])
		r.AddHandler("h"+topic, name, tr.Subscriber, next, tr.Publisher, func(m *message.Message) ([]*message.Message, error) {
			out := message.NewMessage(watermill.NewUUID(), m.Payload)
			out.Metadata.Set(pipeline.MetaCorrelation, m.Metadata.Get(pipeline.MetaCorrelation))
			return []*message.Message{out}, nil
		})
	}
	startRouter(t, r)
	return arrived
}

// runChain sends n messages through the chain and returns the time from the
// first publish to the last arrival. A warm-up message goes through first,
// so group joins are not counted.
func runChain(t testing.TB, tr pipeline.Transport, n int) time.Duration {
	t.Helper()
	arrived := startChain(t, tr, n+1)
	first := tr.Topics.Name(chainTopics[0])
	wait := func(k int, limit time.Duration) {
		deadline := time.After(limit)
		for range k {
			select {
			case <-arrived:
			case <-deadline:
				t.Fatalf("chain: not all %d messages arrived within %s", k, limit)
			}
		}
	}
	if err := tr.Publisher.Publish(first, newMsg("warm-up")); err != nil {
		t.Fatal(err)
	}
	wait(1, 90*time.Second)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			if err := tr.Publisher.Publish(first, newMsg(fmt.Sprint("c", i))); err != nil {
				errs <- err
				return
			}
		}
	}()
	wait(n, 5*time.Minute)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	return time.Since(start)
}

// testLogger logs warnings to the test while it runs (watermill's
// goroutines may log after the test ended: those lines are dropped).
func testLogger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(p))
	}
	return len(p), nil
}
