package transport

import (
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
)

// chainHold holds the fourth topic of the bare chain until the fifth is
// published, as the build stage's topic is held.
var chainHold = []Hold{{Topic: chainTopics[3], Until: chainTopics[4], Slots: 4}}

// BenchmarkBareChain prints items per second through six handlers that only
// forward, on a real redis-server and on kfake: the baseline for the
// pipeline's own benchmark (issue: at least half of it). The "held" variants
// hold the fourth topic as the build stage's is held, to show the cost of
// the hold.
//
//	go test -run '^$' -bench BareChain -benchtime 2000x ./adapters/transport/
func BenchmarkBareChain(b *testing.B) {
	for _, held := range []bool{false, true} {
		var holds []Hold
		suffix := ""
		if held {
			holds, suffix = chainHold, "-held"
		}
		b.Run("redis"+suffix, func(b *testing.B) {
			srv := testsvc.StartRedis(b)
			tr, _ := redisTransportOpts(b, srv, RedisOptions{Consumer: "bench", Holds: holds})
			d := runChain(b, tr, b.N)
			b.ReportMetric(float64(b.N)/d.Seconds(), "items/s")
		})
		b.Run("kfake"+suffix, func(b *testing.B) {
			k := testsvc.StartKafka(b, testsvc.KafkaOptions{})
			tr, _ := kafkaTransportOpts(b, k, KafkaOptions{Consumer: "bench", Holds: holds})
			d := runChain(b, tr, b.N)
			b.ReportMetric(float64(b.N)/d.Seconds(), "items/s")
		})
	}
}
