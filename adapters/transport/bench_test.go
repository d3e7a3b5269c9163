package transport

import (
	"testing"

	"github.com/refinery/refinery-worker/adapters/testsvc"
)

// BenchmarkBareChain prints items per second through six handlers that only
// forward, on a real redis-server and on kfake: the baseline for the
// pipeline's own benchmark (issue: at least half of it).
//
//	go test -run '^$' -bench BareChain -benchtime 2000x ./adapters/transport/
func BenchmarkBareChain(b *testing.B) {
	b.Run("redis", func(b *testing.B) {
		srv := testsvc.StartRedis(b)
		tr, _ := redisTransport(b, srv, "bench", 1)
		d := runChain(b, tr, b.N)
		b.ReportMetric(float64(b.N)/d.Seconds(), "items/s")
	})
	b.Run("kfake", func(b *testing.B) {
		k := testsvc.StartKafka(b, testsvc.KafkaOptions{})
		d := runChain(b, kafkaTransport(b, k), b.N)
		b.ReportMetric(float64(b.N)/d.Seconds(), "items/s")
	})
}
