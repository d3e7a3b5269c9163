package outbox_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/refinery/refinery-worker/adapters/outbox"
	"github.com/refinery/refinery-worker/pipeline"
)

// BenchmarkReport measures how many outcomes per second the Reporter makes
// durable (3 fsynced records each, no delivery), serially and from 8
// goroutines.
func BenchmarkReport(b *testing.B) {
	for _, par := range []int{1, 8} {
		b.Run(fmt.Sprintf("goroutines=%d", par), func(b *testing.B) {
			box, err := outbox.Open(outbox.Options{Dir: b.TempDir(), Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			defer box.Close()
			rep, _ := outbox.NewReporter(outbox.ReporterOptions{Outbox: box})
			var n atomic.Int64
			b.SetParallelism(par)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					w := &pipeline.Work{Claim: fmt.Sprint("c", i), CorrelationID: fmt.Sprint("k", i),
						Outcome: &pipeline.Outcome{Entry: pipeline.ManifestEntry{Name: "pkg", Version: "1.0", Status: pipeline.StatusSkipped}}}
					if err := rep.Report(context.Background(), w); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
		})
	}
}
