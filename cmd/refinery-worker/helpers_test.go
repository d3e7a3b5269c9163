package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/testkit/parallel"
	"github.com/refinery/refinery-worker/pipeline"
)

// workerBin is the refinery-worker binary for the end-to-end tests (built
// with -race when the tests run with it, see workerBuildFlags), built on
// first use: a benchmark run that needs no binary does not pay for the
// build, nor for the thousands of temp files it deletes (which slow file
// creation on ext4 for the next half minute, see bench_test.go).
var workerBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func binPath() string {
	workerBin.once.Do(func() {
		workerBin.path = filepath.Join(workerBin.dir, "refinery-worker")
		args := append(append([]string{"build"}, workerBuildFlags()...), "-o", workerBin.path, ".")
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			workerBin.err = fmt.Errorf("build refinery-worker: %w\n%s", err, out)
		}
	})
	if workerBin.err != nil {
		panic(workerBin.err)
	}
	return workerBin.path
}

func TestMain(m *testing.M) {
	// The end-to-end tests mostly wait on worker processes and podman: run
	// four at once even where GOMAXPROCS is 2 (an explicit -parallel wins).
	if err := parallel.AtLeast(4); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "refinery-worker-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workerBin.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testEnv is a test worker's environment: temp dirs and the file queue.
type testEnv struct {
	dir, queue, out, cache string
	vars                   map[string]string
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	d := t.TempDir()
	e := &testEnv{dir: d, queue: filepath.Join(d, "queue", "retry_queue.json"), out: filepath.Join(d, "out"), cache: filepath.Join(d, "cache")}
	e.vars = map[string]string{
		"QUEUE_FILE": e.queue, "OUTPUT_DIR": e.out, "CACHE_DIR": e.cache, "LOG_LEVEL": "warn",
		"WORKER_HTTP_ADDR": "127.0.0.1:0",
	}
	for _, p := range []string{filepath.Dir(e.queue), e.out, e.cache} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *testEnv) environ() []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range e.vars {
		out = append(out, k+"="+v)
	}
	return out
}

func (e *testEnv) command(args ...string) *exec.Cmd {
	c := exec.Command(binPath(), args...)
	c.Env = e.environ()
	return c
}

// run runs the binary to completion.
func (e *testEnv) run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	c := e.command(args...)
	var o, er bytes.Buffer
	c.Stdout, c.Stderr, c.Stdin = &o, &er, strings.NewReader(stdin)
	err := c.Run()
	code = c.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("run %v: %v\n%s", args, err, er.String())
	}
	return o.String(), er.String(), code
}

func (e *testEnv) writeQueue(t *testing.T, items []json.RawMessage) {
	t.Helper()
	b, err := json.MarshalIndent(items, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.queue, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (e *testEnv) copyTestdata(t *testing.T, name, dst string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writePlan writes a plan with one build node per name.
func (e *testEnv) writePlan(t *testing.T, names []string) {
	t.Helper()
	p := pipeline.Plan{RunID: "test-run"}
	for _, n := range names {
		p.Nodes = append(p.Nodes, pipeline.PlanNode{Name: n, Version: "1.0", PythonTag: "cp311",
			PlatformTag: "manylinux2014_s390x", Action: pipeline.ActionBuild})
	}
	b, _ := json.Marshal(p)
	if err := os.WriteFile(filepath.Join(e.out, "plan.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (e *testEnv) manifest(t *testing.T) []pipeline.ManifestEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.out, "manifest.json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var entries []pipeline.ManifestEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatalf("manifest.json does not parse: %v", err)
	}
	return entries
}

func (e *testEnv) queueItems(t *testing.T, path string) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		t.Fatalf("%s does not parse: %v\n%s", path, err, b)
	}
	return items
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitHTTP waits until GET url (a worker's /health) answers {"status":"ok"}:
// another server that took the port would not.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	eventually(t, 30*time.Second, "worker HTTP at "+url, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var body map[string]string
		return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&body) == nil && body["status"] == "ok"
	})
}

func items(names ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(names))
	for i, n := range names {
		out[i] = json.RawMessage(fmt.Sprintf(`{"package":%q,"version":"1.0"}`, n))
	}
	return out
}

func pkgNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
