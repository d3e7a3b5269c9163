package main

import (
	"fmt"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/testkit/cpuuse"
)

// BenchmarkStubPaced runs the worker as BenchmarkCompare does (serve's
// wiring, file queue, BUILD_CONCURRENCY 2) with the stub runner instead of
// podman, each job waiting as long as Compare's stand-in takes to run here
// (the median wall time of 21 runs of it, measured first and reported as
// pace-µs). It is the part of Compare's worker figure that is not the
// client: the intake, the stages, the job log, the manifest and settling,
// with the pipeline idle between items as it is beside real builds (which
// costs more than BenchmarkSixStages' hot chain: every item wakes threads
// the runtime had parked). BenchmarkRunnerFloor is the other part.
func BenchmarkStubPaced(b *testing.B) {
	pace := standInWall(b)
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var wall time.Duration
			start := cpuuse.Now()
			for range b.N {
				wall += runPacedWorker(b, benchDir(b), n, pace)
			}
			b.ReportMetric(float64(b.N*n)/wall.Seconds(), "items/s")
			b.ReportMetric(float64(pace.Microseconds()), "pace-µs")
			cpuuse.Since(start).Report(b, b.N*n)
		})
	}
}

// standInWall is the median wall time of a run of Compare's stand-in.
func standInWall(b *testing.B) time.Duration {
	podman := fakePodman(b, b.TempDir())
	walls := make([]time.Duration, 21)
	for i := range walls {
		t0 := time.Now()
		mustT(b, exec.Command(podman, "run").Run())
		walls[i] = time.Since(t0)
	}
	slices.Sort(walls)
	return walls[len(walls)/2]
}

func runPacedWorker(b *testing.B, dir string, n int, pace time.Duration) time.Duration {
	return timedServeDrain(b, dir, n, "STUB_DELAY_MIN="+pace.String())
}
