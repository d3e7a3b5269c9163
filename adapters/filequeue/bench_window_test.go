package filequeue

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// BenchmarkClaimWindow measures what claiming costs per item at two queue
// lengths when builds take time, as `serve` drives the file queue: a window
// of 50 claimed items ahead of the builds, refilled 25 at a time once 25 have
// settled, and builds that finish (settle) one at a time. Each run handles
// the first 900 items of a 1,000- or 50,000-item queue, so the figures
// compare the cost per item at each length (the goal: within 15%).
func BenchmarkClaimWindow(b *testing.B) {
	for _, n := range []int{1_000, 50_000} {
		b.Run(fmt.Sprintf("queue=%d", n), func(b *testing.B) { benchClaimWindow(b, n) })
	}
}

func benchClaimWindow(b *testing.B, queueLen int) {
	const handle, window, refill = 900, 50, 25
	items := make([][]byte, queueLen)
	for i := range items {
		items[i] = fmt.Appendf(nil, `{"package":"pkg-%d","version":"1.%d.0","python_version":"3.11","python_tag":"cp311",`+
			`"platform_tag":"manylinux2014_s390x","recipes":["dnf:openblas-devel"],"enqueued_at":1795721514,`+
			`"attempts":0,"plan_id":3,"run_id":"r-1","x_producer":{"k":"v"}}`, i, i)
	}
	data := string(encodeQueue(items))
	ctx := context.Background()
	var cpu, elapsed time.Duration
	var handled, claims int
	for b.Loop() {
		b.StopTimer()
		path := queuePath(b)
		writeFile(b, path, data)
		q := testQueue(b, path)
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		var held []pipeline.Claimed
		done := 0
		for done < handle {
			if room := window - len(held); len(held) == 0 || room >= refill {
				cs, err := q.Claim(ctx, room)
				if err != nil {
					b.Fatal(err)
				}
				claims++
				held = append(held, cs...)
			}
			if len(held) == 0 {
				b.Fatal("queue ran dry")
			}
			// The oldest build finishes.
			if err := q.Settle(ctx, []pipeline.Settlement{{Claim: held[0].Claim, Kind: pipeline.Release}}); err != nil {
				b.Fatal(err)
			}
			held = held[1:]
			done++
		}
		cpu += cpuTime() - cpu0
		elapsed += time.Since(start)
		handled += done
		b.StopTimer()
		if err := q.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	perItem := float64(cpu.Microseconds()) / float64(handled)
	b.ReportMetric(perItem, "cpu-µs/item")
	b.ReportMetric(float64(handled)/float64(claims), "items/claim")
	fmt.Printf("%s: %d items in %v, %d claims: %.0f µs of CPU per item\n",
		b.Name(), handled, elapsed.Round(time.Millisecond), claims, perItem)
}
