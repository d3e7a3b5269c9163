package podman

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// requirePodman skips the test when podman or the local builder image is
// missing, unless REFINERY_REQUIRE_REAL=1 (CI), which makes it a failure.
func requirePodman(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("podman")
	if err != nil {
		missing(t, "podman (run `task setup:podman`)")
	}
	if out, err := exec.Command(bin, "image", "exists", LocalImage).CombinedOutput(); err != nil {
		t.Logf("podman image exists %s: %v %s", LocalImage, err, out)
		missing(t, "podman image "+LocalImage+" (run `task image:local`)")
	}
	return bin
}

func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("REFINERY_REQUIRE_REAL") == "1" {
		t.Fatalf("%s is required (REFINERY_REQUIRE_REAL=1) but missing", what)
	}
	t.Skipf("skipping: %s not available; set REFINERY_REQUIRE_REAL=1 to fail instead", what)
}

// uniqueID gives each test its own worker id and job ids, so parallel tests
// (and their cleanups) never touch each other's containers.
func uniqueID(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

type realSetup struct {
	opts   Options
	runner *Runner
}

// newRealRunner makes a runner on the local image with temp dirs and a
// unique worker id; modify adjusts the options first.
func newRealRunner(t testing.TB, modify func(*Options)) realSetup {
	t.Helper()
	return newRealRunnerWith(t, modify, RunnerOptions{Auditor: WheelAudit{}})
}

// newRealRunnerWith is newRealRunner with the given runner options.
func newRealRunnerWith(t testing.TB, modify func(*Options), ro RunnerOptions) realSetup {
	t.Helper()
	bin := requirePodman(t)
	opts := Options{
		Bin: bin, Image: LocalImage, Network: "none",
		OutputDir: t.TempDir(), CacheDir: t.TempDir(),
		WorkerID: uniqueID("t"), Timeout: 2 * time.Minute, StopGrace: 2 * time.Second,
	}
	if modify != nil {
		modify(&opts)
	}
	cmd, err := NewCommander(opts)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(cmd, ro)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n, err := r.Cleanup(context.Background()); err != nil || n > 0 {
			t.Errorf("cleanup after test removed %d containers, %v", n, err)
		}
	})
	return realSetup{opts: cmd.Options(), runner: r}
}

func newJob(name, version string) pipeline.Job {
	return pipeline.Job{ID: uniqueID("job"), Name: name, Display: name, Version: version,
		PythonVersion: "3.11", PythonTag: "cp311", Attempt: 1}
}

// containersOf lists containers (any state) carrying label key=value.
func containersOf(t testing.TB, bin, key, value string) []string {
	t.Helper()
	out, err := exec.Command(bin, "ps", "-a", "-q", "--filter", "label="+key+"="+value).Output()
	if err != nil {
		t.Fatalf("podman ps: %v", err)
	}
	return strings.Fields(string(out))
}

// watchWriter records everything written and signals when a written chunk
// contains want.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func newWatchWriter(want string) *watchWriter {
	return &watchWriter{want: want, seen: make(chan struct{})}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.want != "" && bytes.Contains(w.buf.Bytes(), []byte(w.want)) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// runAsync runs the job in a goroutine and returns a channel with its result.
func runAsync(ctx context.Context, r *Runner, job pipeline.Job, w *watchWriter) <-chan pipeline.Result {
	done := make(chan pipeline.Result, 1)
	go func() { done <- r.Run(ctx, job, w) }()
	return done
}
