package filequeue

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/testkit/cpuuse"
	"github.com/refinery/refinery-worker/pipeline"
)

// BenchmarkClaimWindow measures what claiming costs per item at two queue
// lengths when builds take time, as `serve` drives the file queue: a window
// of 50 claimed items ahead of the builds, refilled 25 at a time once 25 have
// settled, and builds that finish (settle) one at a time. Each run drains
// whole queues, 10,000 items at least (ten 1,000-item queues, one
// 50,000-item queue), so the figures compare what an item costs at each
// length (the goal: within 15%).
//
// A whole drain is the fair unit: a refill rewrites the queue once for 1/16
// of its items, so its cost per item does not grow with the queue, but it is
// paid up front. Counting only the first 900 items of a 50,000-item queue
// charged them a refill that serves 3,125.
func BenchmarkClaimWindow(b *testing.B) {
	for _, n := range []int{1_000, 50_000} {
		b.Run(fmt.Sprintf("queue=%d", n), func(b *testing.B) { benchClaimWindow(b, n) })
	}
}

func benchClaimWindow(b *testing.B, queueLen int) {
	const window, refill = 50, 25
	rounds := max(1, 10_000/queueLen)
	items := make([][]byte, queueLen)
	for i := range items {
		items[i] = fmt.Appendf(nil, `{"package":"pkg-%d","version":"1.%d.0","python_version":"3.11","python_tag":"cp311",`+
			`"platform_tag":"manylinux2014_s390x","recipes":["dnf:openblas-devel"],"enqueued_at":1795721514,`+
			`"attempts":0,"plan_id":3,"run_id":"r-1","x_producer":{"k":"v"}}`, i, i)
	}
	data := string(encodeQueue(items))
	var cpu, elapsed time.Duration
	var handled, claims int
	for b.Loop() {
		for range rounds {
			c, e, d, n := drainWindow(b, data, queueLen, window, refill)
			cpu, elapsed, handled, claims = cpu+c, elapsed+e, handled+d, claims+n
		}
	}
	perItem := float64(cpu.Microseconds()) / float64(handled)
	b.ReportMetric(perItem, "cpu-µs/item")
	b.ReportMetric(float64(handled)/float64(claims), "items/claim")
	fmt.Printf("%s: %d items in %v, %d claims: %.0f µs of CPU per item\n",
		b.Name(), handled, elapsed.Round(time.Millisecond), claims, perItem)
}

// drainWindow drains a fresh queue file holding data (n items) through a
// window and returns the CPU and wall time it took, the items and the claims.
func drainWindow(b *testing.B, data string, n, window, refill int) (cpu, elapsed time.Duration, done, claims int) {
	b.StopTimer()
	path := queuePath(b)
	writeFile(b, path, data)
	q := testQueue(b, path)
	ctx := context.Background()
	b.StartTimer()
	start, cpu0 := time.Now(), cpuuse.Now().CPU
	var held []pipeline.Claimed
	for done < n {
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
	cpu, elapsed = cpuuse.Now().CPU-cpu0, time.Since(start)
	b.StopTimer()
	if err := q.Close(); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	return cpu, elapsed, done, claims
}
