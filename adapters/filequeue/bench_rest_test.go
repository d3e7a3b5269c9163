package filequeue

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/testkit/median"
	"github.com/refinery/refinery-worker/pipeline"
)

// BenchmarkClaimAtRest is the file queue's part of a worker's pickup at
// rest: one item enqueued into an empty queue, claimed, and settled, as
// serve does for each item when it is idle. It reports the median wall time
// of the claim alone and of the settle (each waits for fsyncs, so run it
// with TMPDIR on the disk the queue would live on).
func BenchmarkClaimAtRest(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "q.json")
	if err := os.WriteFile(path, []byte("[]"), 0o644); err != nil {
		b.Fatal(err)
	}
	q, err := Open(Options{Path: path, Owner: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	var claims, settles []time.Duration
	for b.Loop() {
		if err := q.Enqueue(ctx, [][]byte{[]byte(`{"package":"p","version":"1.0"}`)}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		cs, err := q.Claim(ctx, 1)
		if err != nil || len(cs) != 1 {
			b.Fatalf("claim: %v, %d claimed", err, len(cs))
		}
		mid := time.Now()
		if err := q.Settle(ctx, []pipeline.Settlement{{Claim: cs[0].Claim, Kind: pipeline.Release}}); err != nil {
			b.Fatal(err)
		}
		claims, settles = append(claims, mid.Sub(start)), append(settles, time.Since(mid))
	}
	b.ReportMetric(float64(median.Of(claims).Microseconds()), "claim-µs")
	b.ReportMetric(float64(median.Of(settles).Microseconds()), "settle-µs")
}
