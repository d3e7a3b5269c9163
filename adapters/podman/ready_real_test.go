package podman

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

// The /ready check fails while the image does not fit the target (moved
// from cmd/refinery-worker with the check).
func TestRunnerReadyChecksTheImagesMachine(t *testing.T) {
	bin := requirePodman(t)
	cmd, err := NewCommander(Options{Bin: bin, Image: LocalImage, OutputDir: t.TempDir(), CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	host := "linux_" + map[string]string{"amd64": "x86_64", "arm64": "aarch64", "s390x": "s390x", "ppc64le": "ppc64le"}[runtime.GOARCH]
	other := "manylinux2014_s390x"
	if runtime.GOARCH == "s390x" {
		other = "manylinux2014_x86_64"
	}
	for target, wantErr := range map[string]string{host: "", other: "builder image"} {
		r, err := NewRunner(cmd, RunnerOptions{Target: target})
		if err != nil {
			t.Fatal(err)
		}
		err = r.Ready(context.Background())
		if wantErr == "" && err != nil || wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)) {
			t.Errorf("ready for %s = %v, want error %q", target, err, wantErr)
		}
	}
}
