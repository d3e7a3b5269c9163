package transport

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
	"github.com/refinery/refinery-worker/pipeline"
)

func kafkaTransport(t testing.TB, k *testsvc.Kafka) pipeline.Transport {
	t.Helper()
	tr, _ := kafkaTransportOpts(t, k, KafkaOptions{})
	return tr
}

func kafkaTransportOpts(t testing.TB, k *testsvc.Kafka, opts KafkaOptions) (pipeline.Transport, func() error) {
	t.Helper()
	opts.Brokers, opts.Prefix, opts.Logger = k.Brokers, "t.", testLogger(t)
	if opts.ClaimIdle == 0 {
		opts.ClaimIdle = claimIdle
	}
	tr, closeFn, err := Kafka(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	closeOnce := func() error { var err error; once.Do(func() { err = closeFn() }); return err }
	t.Cleanup(func() { _ = closeOnce() })
	return tr, closeOnce
}

var jobHold = []Hold{{Topic: pipeline.TopicJobs, Until: pipeline.TopicResults, Slots: 1}}

// TestKafkaLongBuildIsNotRunTwice: builds lasting three times ClaimIdle run
// once, and the jobs' partition is not held meanwhile (the four builds run at
// once on one partition).
func TestKafkaLongBuildIsNotRunTwice(t *testing.T) {
	t.Parallel() // its own redis-server or Kafka: it waits on claim and session timers, so it runs beside the others
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{})
	b := newBuilds()
	var trs []pipeline.Transport
	for _, w := range []string{"a", "b"} {
		tr, _ := kafkaTransportOpts(t, k, KafkaOptions{Consumer: w, Holds: jobHold})
		startRouter(t, b.buildStage(t, w, tr, 3*claimIdle))
		trs = append(trs, tr)
	}
	t.Cleanup(b.stop)
	const jobs = 4
	start := time.Now()
	for i := range jobs {
		if err := trs[0].Publisher.Publish(trs[0].Topics.Name(pipeline.TopicJobs), newMsg(fmt.Sprint("job", i))); err != nil {
			t.Fatal(err)
		}
	}
	b.waitResults(t, jobs)
	t.Logf("4 builds of %s in %s", 3*claimIdle, time.Since(start))
	b.mu.Lock()
	defer b.mu.Unlock()
	t.Logf("builds: %v", b.started)
	if len(b.started) != jobs {
		t.Fatalf("started %d jobs, want %d", len(b.started), jobs)
	}
	for corr, ws := range b.started {
		if len(ws) != 1 {
			t.Errorf("%s built %d times (by %v), want once", corr, len(ws), ws)
		}
	}
}

func TestKafkaJobOfADeadWorkerIsRebuilt(t *testing.T) {
	t.Parallel() // its own redis-server or Kafka: it waits on claim and session timers, so it runs beside the others
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{})
	trA, closeA := kafkaTransportOpts(t, k, KafkaOptions{Consumer: "a", Holds: jobHold})
	jobs := trA.Topics.Name(pipeline.TopicJobs)
	ch, err := trA.Subscriber.Subscribe(context.Background(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	if err := trA.Publisher.Publish(jobs, newMsg("orphan")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-ch:
		m.Ack() // the build started ...
	case <-time.After(60 * time.Second):
		t.Fatal("a got no job")
	}
	if err := closeA(); err != nil { // ... and the worker died
		t.Fatal(err)
	}
	b := newBuilds()
	trB, _ := kafkaTransportOpts(t, k, KafkaOptions{Consumer: "b", Holds: jobHold})
	startRouter(t, b.buildStage(t, "b", trB, 0))
	t.Cleanup(b.stop)
	b.waitResults(t, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if ws := b.started["orphan"]; len(ws) != 1 || ws[0] != "b" {
		t.Fatalf("orphan started by %v, want b once", ws)
	}
}

// TestKafkaBareChain also proves that group consumption works against kfake
// with the pinned sarama (protocol 1.0.0) and that a new group starts at the
// oldest offset: the warm-up message is published before the groups joined.
func TestKafkaBareChain(t *testing.T) {
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{})
	d := runChain(t, kafkaTransport(t, k), 200)
	t.Logf("kfake: 200 items through six handlers in %s", d)
}

func TestKafkaNewGroupReadsFromTheOldest(t *testing.T) {
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{})
	tr := kafkaTransport(t, k)
	topic := tr.Topics.Name("early")
	for _, c := range []string{"e1", "e2"} {
		if err := tr.Publisher.Publish(topic, newMsg(c)); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := tr.Subscriber.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"e1", "e2"} {
		m := <-ch
		if got := m.Metadata.Get(pipeline.MetaCorrelation); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
		m.Ack()
	}
}
