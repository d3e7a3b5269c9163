package handlers

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/wheelindex"
	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
	"github.com/refinery/refinery-worker/internal/testkit/wheeltest"
)

// BenchmarkPipDownload times `pip download` of 20 projects (3 versions
// each published; pip picks the newest) from the worker's /simple/ and,
// in the same run, from `python3 -m http.server` serving the same
// OUTPUT_DIR (the tree is a static site). pip asks the worker for JSON
// pages and http.server for HTML; both end with the same files.
func BenchmarkPipDownload(b *testing.B) {
	python, err := exec.LookPath("python3")
	if err != nil || exec.Command(python, "-m", "pip", "--version").Run() != nil {
		testsvc.Missing(b, "python3 -m pip", "pip downloads from the index")
	}
	out := b.TempDir()
	x, err := wheelindex.Open(wheelindex.Options{Dir: filepath.Join(out, "simple")})
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for p := 0; p < 20; p++ {
		names = append(names, fmt.Sprintf("bench-pkg%02d", p))
		for v := 0; v < 3; v++ {
			path, err := wheeltest.Write(out, wheeltest.Spec{Name: names[p], Version: fmt.Sprintf("1.%d", v), RequiresPython: ">=3.7"})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := x.Publish(context.Background(), path, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	e := NewHTTP(HTTPOptions{Plans: noPlans{}})
	if err := AddSimple(e, x.Dir()); err != nil {
		b.Fatal(err)
	}
	worker := httptest.NewServer(e)
	defer worker.Close()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	static := exec.Command(python, "-m", "http.server", "--bind", "127.0.0.1", "--directory", out, fmt.Sprint(port))
	if err := static.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = static.Process.Kill(); _ = static.Wait() }()
	staticURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(staticURL + "/simple/"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("python3 -m http.server did not start")
		}
	}
	download := func(base string) time.Duration {
		dest, err := os.MkdirTemp(b.TempDir(), "dl-")
		if err != nil {
			b.Fatal(err)
		}
		args := append([]string{"-m", "pip", "download", "--no-deps", "--no-cache-dir", "--disable-pip-version-check",
			"--no-input", "-d", dest, "--index-url", base + "/simple/"}, names...)
		cmd := exec.Command(python, args...)
		cmd.Env = append(os.Environ(), "PIP_CONFIG_FILE=/dev/null")
		start := time.Now()
		if o, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("pip download from %s: %v\n%s", base, err, o)
		}
		d := time.Since(start)
		got, _ := filepath.Glob(filepath.Join(dest, "*-1.2-py3-none-any.whl"))
		if len(got) != len(names) {
			b.Fatalf("pip downloaded %d newest wheels from %s, want %d", len(got), base, len(names))
		}
		return d
	}
	download(worker.URL) // warm both (pip's own start-up, page cache)
	download(staticURL)
	var w, s time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w += download(worker.URL)
		s += download(staticURL)
	}
	b.ReportMetric(w.Seconds()/float64(b.N), "s/pip-worker")
	b.ReportMetric(s.Seconds()/float64(b.N), "s/pip-http.server")
}
