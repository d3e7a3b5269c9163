package podman

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/testkit/median"
	"github.com/refinery/refinery-worker/pipeline"
)

// BenchmarkNativeVsEmulatedBuild builds the same C-extension sdist, served by
// a local index, in the host's native builder image and in the s390x image
// under qemu-user emulation, interleaved in the same run, each time with a
// fresh cache (pip reuses nothing). It prints both medians side by side, and
// the audit's time per wheel (wheelaudit on the host, read-only) against a
// build's: the audit must stay under 2% of a build. The smoke test is off
// here, so the figures are the build's.
func BenchmarkNativeVsEmulatedBuild(b *testing.B) {
	emulated := requireEmulatedImage(b)
	srv := serveIndex(b, map[string]sdistFile{
		"cpkg": {"cpkg-0.3.tar.gz", sdist(b, "cpkg", "cpkg", "0.3", cModule("cpkg"))},
	})
	build := func(image, target string) (time.Duration, string) {
		s := newRealRunnerWith(b, func(o *Options) {
			o.Image = image
			o.Arch = OCIArch(MachineOf(target))
			o.Network = "host"
			o.IndexURL = srv.URL + "/simple/"
			o.Timeout = 5 * time.Minute
		}, RunnerOptions{Auditor: WheelAudit{}, SmokeTest: SmokeOff})
		job := newJob("cpkg", "0.3")
		job.PlatformTag = target
		t0 := time.Now()
		res := s.runner.Run(context.Background(), job, io.Discard)
		d := time.Since(t0)
		if res.Status != pipeline.StatusBuilt {
			b.Fatalf("build in %s: %+v", image, res)
		}
		return d, filepath.Join(s.opts.OutputDir, res.Wheels[0].File)
	}
	var native, emul, audit []time.Duration
	for b.Loop() {
		d, _ := build(LocalImage, "linux_"+hostMachine())
		native = append(native, d)
		d, wheel := build(emulated, "manylinux_2_36_s390x")
		emul = append(emul, d)
		// The audit as the runner does it (Audit + Fits), many times over:
		// one run is well under the timer's resolution of a build.
		const n = 200
		t0 := time.Now()
		for range n {
			if _, err := (WheelAudit{}).Check(wheel, "manylinux_2_36_s390x"); err != nil {
				b.Fatal(err)
			}
		}
		audit = append(audit, time.Since(t0)/n)
	}
	nm, em, am := median.Of(native), median.Of(emul), median.Of(audit)
	b.ReportMetric(nm.Seconds(), "native-s/build")
	b.ReportMetric(em.Seconds(), "s390x-emulated-s/build")
	b.ReportMetric(float64(am.Microseconds()), "audit-µs/wheel")
	b.ReportMetric(100*float64(am)/float64(nm), "audit-%-of-native-build")
	fmt.Printf("BenchmarkNativeVsEmulatedBuild: n=%d | native %s build median %s | s390x under emulation median %s (%.1fx)\n",
		len(native), hostMachine(), nm.Round(10*time.Millisecond), em.Round(10*time.Millisecond), float64(em)/float64(nm))
	fmt.Printf("BenchmarkNativeVsEmulatedBuild: audit per wheel %s = %.3f%% of a native build, %.3f%% of an emulated one (limit 2%%)\n",
		am.Round(time.Microsecond), 100*float64(am)/float64(nm), 100*float64(am)/float64(em))
}
