package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/refinery/refinery-worker/adapters/wheelindex"
	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
	"github.com/refinery/refinery-worker/internal/testkit/wheeltest"
	"github.com/refinery/refinery-worker/pipeline"
)

// builtWork is what the build stage hands on for a wheel a build left in out.
func builtWork(t *testing.T, out string, s wheeltest.Spec) *pipeline.Work {
	t.Helper()
	path, err := wheeltest.Write(out, s)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	return &pipeline.Work{Result: &pipeline.Result{Status: pipeline.StatusBuilt,
		Wheels: []pipeline.Wheel{{File: filepath.Base(path), Size: int64(len(b)), SHA256: sha256hex(b)}}}}
}

func publisher(t *testing.T, out, public string) *wheelindex.Publisher {
	t.Helper()
	x, err := wheelindex.Open(wheelindex.Options{Dir: filepath.Join(out, "simple")})
	if err != nil {
		t.Fatal(err)
	}
	return &wheelindex.Publisher{Index: x, OutputDir: out, PublicURL: public}
}

func TestPublishBuiltSetsWheelURLOrError(t *testing.T) {
	out := t.TempDir()
	pub := publisher(t, out, "http://worker-1:9000/")
	var reported []*pipeline.Work
	stage := PublishBuilt(pub, func(_ context.Context, w *pipeline.Work) (string, error) {
		reported = append(reported, w)
		return pipeline.TopicReported, nil
	}, slog.New(slog.DiscardHandler))
	ok := builtWork(t, out, wheeltest.Spec{Name: "demo", Version: "1.0"})
	missing := builtWork(t, out, wheeltest.Spec{Name: "gone", Version: "1.0"})
	os.Remove(filepath.Join(out, missing.Result.Wheels[0].File))
	failed := &pipeline.Work{Result: &pipeline.Result{Status: pipeline.StatusFailed}}
	redelivered := builtWork(t, out, wheeltest.Spec{Name: "again", Version: "1.0"})
	redelivered.Outcome = &pipeline.Outcome{Redelivered: true}
	for _, w := range []*pipeline.Work{ok, missing, failed, redelivered} {
		if next, err := stage(context.Background(), w); err != nil || next != pipeline.TopicReported {
			t.Fatalf("stage: %q %v", next, err)
		}
	}
	if len(reported) != 4 {
		t.Fatalf("report stage ran %d times, want 4", len(reported))
	}
	if got := ok.Result.Metadata[MetaWheelURL]; got != "http://worker-1:9000/simple/demo/demo-1.0-py3-none-any.whl" {
		t.Fatalf("wheel_url %v", got)
	}
	if e, _ := missing.Result.Metadata[MetaPublishError].(string); !strings.Contains(e, "gone-1.0-py3-none-any.whl") ||
		missing.Result.Metadata[MetaWheelURL] != nil || missing.Result.Status != pipeline.StatusBuilt {
		t.Fatalf("missing wheel: %+v", missing.Result)
	}
	if failed.Result.Metadata != nil || redelivered.Result.Metadata != nil {
		t.Fatal("a failed or redelivered outcome was published")
	}
	if _, err := os.Stat(filepath.Join(out, "simple", "again")); !os.IsNotExist(err) {
		t.Fatalf("redelivered outcome published: %v", err)
	}
}

// TestPipInstallsFromTheWorkersIndex: pip on this host installs a wheel the
// worker published, from the worker's HTTP server on a loopback port, using
// PEP 658 metadata on the way.
func TestPipInstallsFromTheWorkersIndex(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		testsvc.Missing(t, "python3", "pip installs from the index")
	}
	if err := exec.Command(python, "-m", "pip", "--version").Run(); err != nil {
		testsvc.Missing(t, "python3 -m pip", "pip installs from the index")
	}
	out := t.TempDir()
	pub := publisher(t, out, "")
	stage := PublishBuilt(pub, func(context.Context, *pipeline.Work) (string, error) { return "", nil }, slog.New(slog.DiscardHandler))
	for _, s := range []wheeltest.Spec{{Name: "Demo.Pkg", Version: "1.0"}, {Name: "Demo.Pkg", Version: "1.1", RequiresPython: ">=3.7"},
		{Name: "Demo.Pkg", Version: "2.0", RequiresPython: ">=4"}, {Name: "other", Version: "0.1"}} {
		w := builtWork(t, out, s)
		if _, err := stage(context.Background(), w); err != nil || w.Result.Metadata[MetaPublishError] != nil {
			t.Fatalf("publish %s: %v %v", s.Name, err, w.Result.Metadata)
		}
	}
	e := NewHTTP(HTTPOptions{Plans: noPlans{}})
	if err := AddSimple(e, pub.Index.Dir()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		e.ServeHTTP(w, r)
	}))
	defer srv.Close()

	target := t.TempDir()
	cmd := exec.Command(python, "-m", "pip", "install", "--disable-pip-version-check", "--no-cache-dir", "--no-input",
		"--index-url", srv.URL+"/simple/", "--target", target, "demo_pkg")
	cmd.Env = append(os.Environ(), "PIP_CONFIG_FILE=/dev/null")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pip install: %v\n%s", err, b)
	}
	// 2.0 requires Python >= 4 (data-requires-python), so pip takes 1.1.
	got, err := exec.Command(python, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import demo_pkg; print(demo_pkg.VERSION)", target).CombinedOutput()
	if err != nil || strings.TrimSpace(string(got)) != "1.1" {
		t.Fatalf("import: %v %s", err, got)
	}
	mu.Lock()
	defer mu.Unlock()
	joined := strings.Join(paths, "\n")
	if !strings.Contains(joined, "/simple/demo-pkg/Demo_Pkg-1.1-py3-none-any.whl.metadata") {
		t.Fatalf("pip did not use the PEP 658 metadata file; requests:\n%s", joined)
	}
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
