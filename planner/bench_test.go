package planner_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/pyindex"
	"github.com/refinery/refinery-worker/internal/testkit/pyindextest"
	"github.com/refinery/refinery-worker/pipeline/pep508"
	"github.com/refinery/refinery-worker/pipeline/resolve"
)

// layeredGraph makes n packages in layers of 20, three versions each; each
// package depends on two packages of the next layer with a lower bound.
func layeredGraph(n int) []pyindextest.Dist {
	var out []pyindextest.Dist
	for i := range n {
		var deps []string
		if next := (i/20 + 1) * 20; next < n {
			deps = []string{fmt.Sprintf("pkg%03d>=1.1", next+i%20), fmt.Sprintf("pkg%03d", next+(i+7)%20)}
		}
		for _, v := range []string{"1.0", "1.1", "1.2"} {
			out = append(out, pyindextest.Dist{Name: fmt.Sprintf("pkg%03d", i), Version: v, WheelTags: []string{any3}, Requires: deps, PEP658: i%2 == 0})
		}
	}
	return out
}

// BenchmarkResolve200WarmCache resolves a 200-package graph with a fresh
// client over a warm disk cache: every page is revalidated (304) and all
// metadata comes from the cache. It runs against a loopback index and
// against one answering after 2 ms (a nearby remote index), with and
// without the resolver's prefetching.
func BenchmarkResolve200WarmCache(b *testing.B) {
	for _, latency := range []time.Duration{0, 2 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%s", latency), func(b *testing.B) { benchResolve(b, latency) })
	}
}

func benchResolve(b *testing.B, latency time.Duration) {
	const n = 200
	idx, err := pyindextest.Start(layeredGraph(n), pyindextest.Options{Latency: latency})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(idx.Close)
	cache := b.TempDir()
	var roots []pep508.Requirement
	for i := range 20 {
		r, _ := pep508.ParseRequirement(fmt.Sprintf("pkg%03d", i))
		roots = append(roots, r)
	}
	env := pep508.TargetEnv("3.11", "manylinux2014_s390x")
	resolveOnce := func(prefetch int) int {
		client, err := pyindex.New(pyindex.Config{IndexURL: idx.URL(), CacheDir: cache, PythonVersion: "3.11", Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		res, err := resolve.New(client, resolve.Options{Env: env, Logger: quiet, Prefetch: prefetch}).Resolve(context.Background(), roots)
		if err != nil {
			b.Fatal(err)
		}
		return len(res.Packages)
	}
	if got := resolveOnce(-1); got != n { // warms the cache
		b.Fatalf("resolved %d packages, want %d", got, n)
	}
	for _, prefetch := range []int{-1, 8} {
		b.Run(fmt.Sprintf("prefetch=%d", prefetch), func(b *testing.B) {
			for b.Loop() {
				resolveOnce(prefetch)
			}
			b.ReportMetric(float64(n), "packages/op")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/n, "µs/package")
		})
	}
}
