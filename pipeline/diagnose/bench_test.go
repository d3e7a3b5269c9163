package diagnose

import (
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

// BenchmarkClassify diagnoses the log of a build that exited 0 without a
// wheel: the runner's podman command line (long, no error in it) and its
// closing line. Every failed job pays this once.
func BenchmarkClassify(b *testing.B) {
	lines := []string{
		"refinery: podman run --rm --pull=never --name refinery-w1-pkg123-1-0-cp311-abcdef --label refinery.worker=w1 " +
			"--label refinery.owner=host:1234 --network none --memory 4g --cpus 2 --pids-limit 4096 --security-opt no-new-privileges " +
			"--cap-drop all --userns keep-id -v /srv/refinery/output/.build-pkg123-1.0-cp311:/output:Z -v /srv/refinery/cache:/cache:Z " +
			"-e JOB_NAME=pkg123 -e JOB_VERSION=1.0 -e PYTHON_TAG=cp311 -e PLATFORM_TAG=manylinux2014_x86_64 -e PIP_NO_INPUT=1 " +
			"-e PIP_DISABLE_PIP_VERSION_CHECK=1 -e SOURCE_DATE_EPOCH=1795721514 localhost/refinery-builder-debian:latest " +
			"/usr/local/bin/refinery-build",
		"refinery: exit code 0 but no wheel for pkg123 1.0 in the output dir",
	}
	r := NewRules()
	res := pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonNoWheel, Error: "exit code 0 but no wheel for pkg123 1.0 in the output dir"}
	b.ReportAllocs()
	for b.Loop() {
		if f := r.Classify(lines, res); f.Class != pipeline.ClassUnknown {
			b.Fatalf("class %s", f.Class)
		}
	}
}
