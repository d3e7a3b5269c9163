package podman

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// BenchmarkTrivialJob compares, in the same run and interleaved, the wall time
// of a trivial job (`true` in the builder image, no network) through the
// runner with a plain `podman run --rm` of the same image and command. It
// reports both medians and the runner's overhead; the goal is an overhead
// under max(10%, 50 ms).
func BenchmarkTrivialJob(b *testing.B) {
	s := newRealRunner(b, func(o *Options) { o.RunCmd = "true" })
	plain := []string{"run", "--rm", "--pull=never", "--network=none", LocalImage, "true"}
	var viaRunner, viaPlain []time.Duration
	for b.Loop() {
		job := newJob("trivial", "1.0")
		t0 := time.Now()
		res := s.runner.Run(context.Background(), job, io.Discard)
		viaRunner = append(viaRunner, time.Since(t0))
		if res.ExitCode != 0 {
			b.Fatalf("runner: %+v", res)
		}
		t0 = time.Now()
		if out, err := exec.Command(s.opts.Bin, plain...).CombinedOutput(); err != nil {
			b.Fatalf("plain podman run: %v: %s", err, out)
		}
		viaPlain = append(viaPlain, time.Since(t0))
	}
	r, p := median(viaRunner), median(viaPlain)
	b.ReportMetric(float64(r.Milliseconds()), "runner-median-ms")
	b.ReportMetric(float64(p.Milliseconds()), "plain-median-ms")
	b.ReportMetric(float64((r - p).Milliseconds()), "overhead-ms")
	fmt.Printf("BenchmarkTrivialJob: n=%d runner median %s, plain podman run --rm median %s, overhead %s (%.1f%%)\n",
		len(viaRunner), r.Round(time.Millisecond), p.Round(time.Millisecond), (r - p).Round(time.Millisecond),
		100*float64(r-p)/float64(p))
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
