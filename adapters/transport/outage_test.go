package transport

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/redisqueue"
	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
	"github.com/refinery/refinery-worker/pipeline"
)

// TestRedisOutageLosesNothing: the server dies while messages are between
// stages and comes back (with its data, as a persistent Redis would); /ready
// fails meanwhile, and every message still arrives.
func TestRedisOutageLosesNothing(t *testing.T) {
	t.Parallel() // its own redis-server or Kafka: it waits on claim and session timers, so it runs beside the others
	srv := testsvc.StartRedisWith(t, testsvc.RedisOptions{AppendOnly: true})
	tr, _ := redisTransport(t, srv, "a", 1)
	ready, closeReady, err := RedisReady(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer closeReady()
	const n = 100
	arrived := startChain(t, tr, 4*n)
	for i := range n {
		if err := tr.Publisher.Publish(tr.Topics.Name(chainTopics[0]), newMsg(fmt.Sprint("c", i))); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	deadline := time.After(2 * time.Minute)
	take := func(k int) {
		for len(seen) < k {
			select {
			case c := <-arrived:
				seen[c] = true
			case <-deadline:
				t.Fatalf("%d of %d arrived", len(seen), n)
			}
		}
	}
	take(n / 4)
	srv.Stop()
	short, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if err := ready(short); err == nil {
		t.Error("ready during the outage")
	}
	cancel()
	srv.Restart()
	take(n)
	if err := ready(context.Background()); err != nil {
		t.Errorf("not ready after the outage: %v", err)
	}
	t.Logf("all %d arrived after the outage", n)
}

func TestKafkaReady(t *testing.T) {
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{})
	ready, closeReady, err := KafkaReady(k.Brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer closeReady()
	if err := ready(context.Background()); err != nil {
		t.Fatalf("ready: %v", err)
	}
	k.Cluster.Close()
	short, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := ready(short); err == nil {
		t.Fatal("ready with the cluster gone")
	}
}

// TestFeedRidesOutAnOutage: Feed keeps consuming the Redis intake across a
// server outage (with its data kept), backing off meanwhile; every item
// pushed before and after reaches the intake topic, and the list ends empty.
func TestFeedRidesOutAnOutage(t *testing.T) {
	srv := testsvc.StartRedisWith(t, testsvc.RedisOptions{AppendOnly: true})
	tr, _ := redisTransport(t, srv, "a", 1)
	q, err := redisqueue.Open(context.Background(), redisqueue.Options{URL: srv.URL, TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	pub := pipeline.NewPublisher(tr.Publisher, tr.Topics, tr.InProcess)
	fed := make(chan string, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Feed(ctx, q, pub, FeedOptions{Batch: 8, MaxBackoff: time.Second, Logger: testLogger(t),
			OnPublished: func(w *pipeline.Work) { fed <- string(w.Raw) }})
	}()
	push := func(from, to int) {
		items := make([][]byte, 0, to-from)
		for i := from; i < to; i++ {
			items = append(items, []byte(fmt.Sprintf(`{"package":"p%d"}`, i)))
		}
		if err := q.Enqueue(context.Background(), items); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	take := func(n int) {
		deadline := time.After(time.Minute)
		for len(seen) < n {
			select {
			case r := <-fed:
				seen[r] = true
			case <-deadline:
				t.Fatalf("%d of %d fed", len(seen), n)
			}
		}
	}
	push(0, 20)
	take(20)
	srv.Stop()
	srv.Restart()
	push(20, 40)
	take(40)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("feed returned %v", err)
	}
	if ready, delayed, err := q.Depth(context.Background()); err != nil || ready != 0 || delayed != 0 {
		t.Fatalf("queue after feeding = %d ready, %d delayed, %v", ready, delayed, err)
	}
}
