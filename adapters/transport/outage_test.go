package transport

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/testsvc"
	"github.com/refinery/refinery-worker/pipeline"
)

// TestRedisOutageLosesNothing: the server dies while messages are between
// stages and comes back (with its data, as a persistent Redis would); /ready
// fails meanwhile, and every message still arrives.
func TestRedisOutageLosesNothing(t *testing.T) {
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

var _ = pipeline.TopicJobs
