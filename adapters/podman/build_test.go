package podman

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"context"

	"github.com/refinery/refinery-worker/pipeline"
)

// hostPlatformTag is the platform tag of a build on this host (no
// manylinux repair happens in the builder).
func hostPlatformTag() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "s390x": "s390x", "ppc64le": "ppc64le"}[runtime.GOARCH]
	return "linux_" + arch
}

type sdistFile = struct {
	File string
	Data []byte
}

// TestBuildRealWheel builds a tiny C extension from an sdist served by a local
// index, inside the container on the host network.
func TestBuildRealWheel(t *testing.T) {
	t.Parallel()
	srv := serveIndex(t, map[string]sdistFile{
		"tiny-ext": {"tiny-ext-0.1.tar.gz", sdist(t, "tiny-ext", "tiny_ext", "0.1", cModule("tiny_ext"))},
	})
	s := newRealRunner(t, func(o *Options) {
		o.Network = "host"
		o.IndexURL = srv.URL + "/simple/"
	})
	job := newJob("tiny-ext", "0.1")
	w := newWatchWriter("")
	res := s.runner.Run(context.Background(), job, w)
	if res.Status != pipeline.StatusBuilt || len(res.Wheels) != 1 {
		t.Fatalf("result %+v\nlog:\n%s", res, w)
	}
	wh := res.Wheels[0]
	wantTag := "cp311-cp311-" + hostPlatformTag()
	if wh.File != "tiny_ext-0.1-"+wantTag+".whl" || !slices.Contains(wh.Tags, wantTag) {
		t.Errorf("wheel %+v, want tag %s", wh, wantTag)
	}
	data, err := os.ReadFile(filepath.Join(s.opts.OutputDir, wh.File))
	if err != nil {
		t.Fatal(err)
	}
	// Built in the job's own dir, moved into OUTPUT_DIR whole, dir removed.
	if _, err := os.Stat(s.runner.cmd.JobDir(job)); !os.IsNotExist(err) {
		t.Errorf("job build dir %s left behind: %v", s.runner.cmd.JobDir(job), err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != wh.SHA256 || int64(len(data)) != wh.Size {
		t.Errorf("sha256/size %s/%d, file has %x/%d", wh.SHA256, wh.Size, sum, len(data))
	}
	if res.LogTail != nil {
		t.Errorf("log tail on success: %q", res.LogTail)
	}
	if !strings.Contains(w.String(), "Successfully built tiny-ext") {
		t.Errorf("pip output not streamed:\n%s", w)
	}

	// A rebuild (next attempt, same output and cache dirs, wheel already
	// there) builds again and is recognised, not mistaken for "no wheel".
	job.Attempt++
	again := s.runner.Run(context.Background(), job, newWatchWriter(""))
	if again.Status != pipeline.StatusBuilt || len(again.Wheels) != 1 || again.Wheels[0].File != wh.File {
		t.Fatalf("rebuild: %+v", again)
	}
}

// TestBuildCompilerError: a C syntax error fails the build with exit code and
// the compiler's message in the log tail.
func TestBuildCompilerError(t *testing.T) {
	t.Parallel()
	srv := serveIndex(t, map[string]sdistFile{
		"broken": {"broken-1.0.tar.gz", sdist(t, "broken", "broken", "1.0", "this is not C;\n")},
	})
	s := newRealRunner(t, func(o *Options) {
		o.Network = "host"
		o.IndexURL = srv.URL + "/simple/"
	})
	res := s.runner.Run(context.Background(), newJob("broken", "1.0"), newWatchWriter(""))
	if res.Status != pipeline.StatusFailed || res.Reason != pipeline.ReasonExit || res.ExitCode == 0 {
		t.Fatalf("result %+v", res)
	}
	tail := strings.Join(res.LogTail, "\n")
	if !strings.Contains(tail, "error") || len(res.LogTail) == 0 {
		t.Errorf("log tail lacks the error:\n%s", tail)
	}
}
