package testsvc

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// KafkaOptions shape a fake cluster.
type KafkaOptions struct {
	// Brokers is the number of brokers. Default 1.
	Brokers int
	// Partitions is the partition count of Topics and of topics created
	// automatically. Default 1.
	Partitions int32
	// Topics are created at start. Others are created on first use.
	Topics []string
}

// Kafka is an in-process Kafka cluster (kfake) listening on loopback ports.
type Kafka struct {
	// Brokers are the host:port addresses of the brokers.
	Brokers []string
	// Cluster is the fake cluster, for tests that inject faults.
	Cluster *kfake.Cluster
}

// StartKafka starts a kfake cluster that speaks the real Kafka protocol and
// closes it when the test ends.
func StartKafka(t testing.TB, opts KafkaOptions) *Kafka {
	t.Helper()
	if opts.Brokers <= 0 {
		opts.Brokers = 1
	}
	if opts.Partitions <= 0 {
		opts.Partitions = 1
	}
	kopts := []kfake.Opt{kfake.NumBrokers(opts.Brokers), kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(int(opts.Partitions))}
	if len(opts.Topics) > 0 {
		kopts = append(kopts, kfake.SeedTopics(opts.Partitions, opts.Topics...))
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		t.Fatalf("start kfake cluster: %v", err)
	}
	t.Cleanup(c.Close)
	return &Kafka{Brokers: c.ListenAddrs(), Cluster: c}
}
