package transport

import (
	"context"
	"testing"

	"github.com/refinery/refinery-worker/adapters/testsvc"
	"github.com/refinery/refinery-worker/pipeline"
)

func kafkaTransport(t testing.TB, k *testsvc.Kafka) pipeline.Transport {
	t.Helper()
	tr, closeFn, err := Kafka(context.Background(), KafkaOptions{Brokers: k.Brokers, Prefix: "t.", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeFn() })
	return tr
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
