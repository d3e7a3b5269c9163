package wheelstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/wheelindex"
	"github.com/refinery/refinery-worker/adapters/wheelstore"
	"github.com/refinery/refinery-worker/internal/testkit/wheeltest"
	"github.com/refinery/refinery-worker/pipeline"
)

// TestUploadsSurviveKill: a worker process publishes wheels while the store
// is down and is killed with SIGKILL; the next worker on the same
// directories uploads every one of them, once, with the right hash.
func TestUploadsSurviveKill(t *testing.T) {
	s := startS3(t)
	st := newStore(t, s)
	out := t.TempDir()
	const n = 8
	s.down.Store(true)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperKilledUploader$")
	cmd.Env = append(os.Environ(), "WHEELSTORE_HELPER_OUT="+out, "WHEELSTORE_HELPER_S3="+s.URL, "WHEELSTORE_HELPER_N="+strconv.Itoa(n))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	// The child says when every publish returned (its uploads are queued
	// and failing against the store that is down).
	sc := bufio.NewScanner(stdout)
	ready := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "published-all") {
			ready = true
			break
		}
	}
	if !ready {
		_ = cmd.Wait()
		t.Fatal("the helper process did not publish")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if keys, _ := st.Objects(context.Background()); len(keys) != 0 {
		s.down.Store(false)
		keys, _ = st.Objects(context.Background())
		t.Fatalf("objects stored while the store was down: %v", keys)
	}
	s.down.Store(false)

	x, err := wheelindex.Open(wheelindex.Options{Dir: filepath.Join(out, "simple"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	up, err := wheelstore.OpenUploads(filepath.Join(out, "cache", "artifact-outbox"), st, x.Dir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if up.Backlog() != n {
		t.Fatalf("the next worker found %d uploads, want %d", up.Backlog(), n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = up.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	if err := up.WaitEmpty(wctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	up.Close()
	keys, err := st.Objects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2*n {
		t.Fatalf("%d objects, want %d: %v", len(keys), 2*n, keys)
	}
	err = x.Walk(func(p wheelindex.Published) error {
		if err := st.Check(context.Background(), p.Path, p.File.SHA256()); err != nil {
			return err
		}
		return st.Check(context.Background(), p.MetadataPath(), p.File.MetadataSHA256())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHelperKilledUploader is the process TestUploadsSurviveKill kills; it
// does nothing when run on its own.
func TestHelperKilledUploader(t *testing.T) {
	out := os.Getenv("WHEELSTORE_HELPER_OUT")
	if out == "" {
		return
	}
	n, _ := strconv.Atoi(os.Getenv("WHEELSTORE_HELPER_N"))
	st, err := wheelstore.NewStore(wheelstore.StoreConfig{URL: os.Getenv("WHEELSTORE_HELPER_S3") + "/wheels/refinery/prod", AccessKey: "k", SecretKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	x, err := wheelindex.Open(wheelindex.Options{Dir: filepath.Join(out, "simple"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	up, err := wheelstore.OpenUploads(filepath.Join(out, "cache", "artifact-outbox"), st, x.Dir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = up.Run(context.Background()) }()
	pub := &wheelindex.Publisher{Index: x, OutputDir: out, Uploads: up}
	for i := 0; i < n; i++ {
		path, err := wheeltest.Write(out, wheeltest.Spec{Name: fmt.Sprintf("killed%d", i), Version: "1.0"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pub.PublishWheel(context.Background(), pipeline.Wheel{File: filepath.Base(path)}); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Println("published-all")
	select {} // until killed
}
