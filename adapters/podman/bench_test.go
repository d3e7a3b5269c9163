package podman

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/testkit/median"
)

// BenchmarkTrivialJob compares, in the same run and interleaved, the wall time
// of a trivial job (`true` in the builder image, no network) through the
// runner with a plain `podman run --rm` of the same image and command. It
// reports both medians and the runner's overhead; the goal is an overhead
// under max(10%, 50 ms).
func BenchmarkTrivialJob(b *testing.B) {
	s := newRealRunner(b, func(o *Options) { o.RunCmd = "true" })
	plain := []string{"run", "--rm", "--pull=never", "--network=none", LocalImage, "true"}
	var viaRunner, viaPlain, viaArgv []time.Duration
	for b.Loop() {
		job := newJob("trivial", "1.0")
		// The runner's exact command line, exec'd directly: separates the cost
		// of its podman flags (--init, mounts, labels, env) from its own code.
		argvJob := newJob("trivial", "1.0")
		argv, _ := s.runner.cmd.Command(argvJob)
		// The runner creates the job's build dir before its run; so does this.
		if err := os.MkdirAll(s.runner.cmd.JobDir(argvJob), 0o755); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			b.Fatalf("runner argv: %v: %s", err, out)
		}
		viaArgv = append(viaArgv, time.Since(t0))
		t0 = time.Now()
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
	r, p, a := median.Of(viaRunner), median.Of(viaPlain), median.Of(viaArgv)
	b.ReportMetric(float64(a.Milliseconds()), "argv-median-ms")
	b.ReportMetric(float64(r.Milliseconds()), "runner-median-ms")
	b.ReportMetric(float64(p.Milliseconds()), "plain-median-ms")
	b.ReportMetric(float64((r - p).Milliseconds()), "overhead-ms")
	fmt.Printf("BenchmarkTrivialJob: n=%d runner median %s, plain podman run --rm median %s, overhead %s (%.1f%%)\n",
		len(viaRunner), r.Round(time.Millisecond), p.Round(time.Millisecond), (r - p).Round(time.Millisecond),
		100*float64(r-p)/float64(p))
	fmt.Printf("BenchmarkTrivialJob: the runner's argv run directly: median %s (flags cost %s, runner code %s)\n",
		a.Round(time.Millisecond), (a - p).Round(time.Millisecond), (r - a).Round(time.Millisecond))
}

// BenchmarkTwoConcurrentBuilds builds the tiny C extension (two versions, so
// the wheels differ) one after the other and then both at once, and prints
// the wall time of each way (2 cores here: concurrency should not double the
// time of one build).
func BenchmarkTwoConcurrentBuilds(b *testing.B) {
	srv := serveIndexVersions(b, "tiny-ext", "tiny_ext", "0.1", "0.2")
	s := newRealRunner(b, func(o *Options) {
		o.Network = "host"
		o.IndexURL = srv.URL + "/simple/"
	})
	build := func(version string) {
		if res := s.runner.Run(context.Background(), newJob("tiny-ext", version), io.Discard); res.Status != "built" {
			b.Errorf("build %s: %+v", version, res)
		}
	}
	var seq, par []time.Duration
	for b.Loop() {
		t0 := time.Now()
		build("0.1")
		build("0.2")
		seq = append(seq, time.Since(t0))
		t0 = time.Now()
		var wg sync.WaitGroup
		wg.Go(func() { build("0.1") })
		wg.Go(func() { build("0.2") })
		wg.Wait()
		par = append(par, time.Since(t0))
	}
	sm, pm := median.Of(seq), median.Of(par)
	b.ReportMetric(float64(sm.Milliseconds()), "sequential-pair-ms")
	b.ReportMetric(float64(pm.Milliseconds()), "concurrent-pair-ms")
	fmt.Printf("BenchmarkTwoConcurrentBuilds: n=%d two builds one after the other median %s, both at once median %s (speed-up %.2fx)\n",
		len(seq), sm.Round(time.Millisecond), pm.Round(time.Millisecond), float64(sm)/float64(pm))
}
