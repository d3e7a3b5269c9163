package wheelindex_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/wheelindex"
	"github.com/refinery/refinery-worker/internal/testkit/cpuuse"
	"github.com/refinery/refinery-worker/internal/testkit/wheeltest"
)

// BenchmarkPublish10k publishes 10,000 wheels of 1,000 projects (wheel i
// is version i/1000 of project i%1000: the first thousand each start a
// project, the last thousand each add a tenth file to one) and reports the
// per-wheel cost of the first and the last thousand. Flat means publishing
// does not grow with the index. BENCH_INDEX_DIR puts the index on another
// file system (default: the test's temporary directory).
func BenchmarkPublish10k(b *testing.B) {
	const wheels, projects = 10000, 1000
	src := b.TempDir()
	paths := make([]string, wheels)
	for i := range paths {
		p, err := wheeltest.Write(src, wheeltest.Spec{Name: fmt.Sprintf("project%04d", i%projects), Version: fmt.Sprintf("%d.0", i/projects)})
		if err != nil {
			b.Fatal(err)
		}
		paths[i] = p
	}
	base := os.Getenv("BENCH_INDEX_DIR")
	if base == "" {
		base = b.TempDir()
	}
	var first, last, firstCPU, lastCPU time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		dir, err := os.MkdirTemp(base, "index-")
		if err != nil {
			b.Fatal(err)
		}
		x, err := wheelindex.Open(wheelindex.Options{Dir: filepath.Join(dir, "simple")})
		if err != nil {
			b.Fatal(err)
		}
		var start time.Time
		var startCPU time.Duration
		for i, p := range paths {
			if i%1000 == 0 {
				start, startCPU = time.Now(), cpuuse.Now().CPU
			}
			if _, err := x.Publish(context.Background(), p, ""); err != nil {
				b.Fatal(err)
			}
			switch i {
			case 999:
				first, firstCPU = first+time.Since(start), firstCPU+cpuuse.Now().CPU-startCPU
			case wheels - 1:
				last, lastCPU = last+time.Since(start), lastCPU+cpuuse.Now().CPU-startCPU
			}
		}
		b.StopTimer()
		if st, _ := x.Stats(); st.Wheels != wheels || st.Projects != projects {
			b.Fatalf("index holds %+v", st)
		}
		os.RemoveAll(dir)
		b.StartTimer()
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(1000*b.N) }
	b.ReportMetric(per(first), "µs/wheel-first1k")
	b.ReportMetric(per(last), "µs/wheel-last1k")
	b.ReportMetric(per(firstCPU), "cpu-µs/wheel-first1k")
	b.ReportMetric(per(lastCPU), "cpu-µs/wheel-last1k")
	b.Logf("per wheel: first thousand %.0f µs (CPU %.0f), last thousand %.0f µs (CPU %.0f); last/first %.2f (CPU %.2f)",
		per(first), per(firstCPU), per(last), per(lastCPU), per(last)/per(first), per(lastCPU)/per(firstCPU))
}
