package filequeue

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/testkit/cpuuse"
	"github.com/refinery/refinery-worker/pipeline"
)

// BenchmarkClaimSettle drains 10,000 queued items (each about the size of a
// real one) by claiming 500 at a time and settling them in batches of 100, as
// the pipeline's group commit does. "release" releases every item (a settle
// then rewrites only the in-flight file); "requeue10" requeues one in ten with
// a backoff (every settle also rewrites the queue); "2workers" has two
// instances take turns, so that each finds the files changed by the other and
// parses them again (no cache hits). It reports items/s over the whole drain,
// fsyncs included, and the CPU time per item.
func BenchmarkClaimSettle(b *testing.B) {
	b.Run("release", func(b *testing.B) { benchClaimSettle(b, 1, 0) })
	b.Run("requeue10", func(b *testing.B) { benchClaimSettle(b, 1, 10) })
	b.Run("2workers", func(b *testing.B) { benchClaimSettle(b, 2, 0) })
	b.Run("2workers-requeue10", func(b *testing.B) { benchClaimSettle(b, 2, 10) })
}

func benchClaimSettle(b *testing.B, workers, requeueEvery int) {
	const total, claimBatch, settleBatch = 10_000, 500, 100
	items := make([][]byte, total)
	for i := range items {
		items[i] = fmt.Appendf(nil, `{"package":"pkg-%d","version":"1.%d.0","python_version":"3.11","python_tag":"cp311",`+
			`"platform_tag":"manylinux2014_s390x","recipes":["dnf:openblas-devel"],"enqueued_at":1795721514,`+
			`"attempts":0,"plan_id":3,"run_id":"r-1","x_producer":{"k":"v"}}`, i, i)
	}
	data := encodeQueue(items)
	future := fixedNow.Unix() + 3600
	ctx := context.Background()
	var elapsed, cpu time.Duration
	var handled int
	for b.Loop() {
		b.StopTimer()
		path := queuePath(b)
		writeFile(b, path, string(data))
		qs := make([]*Queue, workers)
		for i := range qs {
			qs[i] = testQueue(b, path)
		}
		b.StartTimer()
		start, cpu0 := time.Now(), cpuuse.Now().CPU
		for {
			held := make([][]pipeline.Claimed, workers)
			got := 0
			for w, q := range qs {
				cs, err := q.Claim(ctx, claimBatch)
				if err != nil {
					b.Fatal(err)
				}
				held[w], got = cs, got+len(cs)
			}
			if got == 0 {
				break
			}
			for more := true; more; {
				more = false
				for w, q := range qs { // settle batches take turns between workers
					n := min(settleBatch, len(held[w]))
					if n == 0 {
						continue
					}
					ss := make([]pipeline.Settlement, n)
					for i, c := range held[w][:n] {
						ss[i] = pipeline.Settlement{Claim: c.Claim, Kind: pipeline.Release}
						if requeueEvery > 0 && handled%requeueEvery == 0 { // with a backoff: not claimed again here
							ss[i].Kind = pipeline.Requeue
							ss[i].Item = fmt.Appendf(nil, `{"package":"x","attempts":1,"not_before":%d}`, future)
						}
						handled++
					}
					if err := q.Settle(ctx, ss); err != nil {
						b.Fatal(err)
					}
					held[w] = held[w][n:]
					more = more || len(held[w]) > 0
				}
			}
		}
		elapsed += time.Since(start)
		cpu += cpuuse.Now().CPU - cpu0
		b.StopTimer()
		for _, q := range qs {
			if err := q.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	rate := float64(handled) / elapsed.Seconds()
	perItem := float64(cpu.Microseconds()) / float64(handled)
	b.ReportMetric(rate, "items/s")
	b.ReportMetric(perItem, "cpu-µs/item")
	fmt.Printf("%s: %d items in %v: %.0f items/s, %.0f µs of CPU per item (%.0f items per CPU-second)\n",
		b.Name(), handled, elapsed.Round(time.Millisecond), rate, perItem, 1e6/perItem)
}
