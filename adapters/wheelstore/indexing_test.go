package wheelstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/wheelstore"
	"github.com/refinery/refinery-worker/internal/testkit/wheeltest"
	"github.com/refinery/refinery-worker/pipeline"
)

// publishOne writes a wheel into out and publishes it through ix.
func publishOne(t *testing.T, ix *wheelstore.Indexing, out string) string {
	t.Helper()
	path, err := wheeltest.Write(out, wheeltest.Spec{Name: "pkg", Version: "1.0"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if _, err := ix.Publisher().PublishWheel(context.Background(), pipeline.Wheel{File: filepath.Base(path), SHA256: hexSum(b)}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestIndexing(t *testing.T) {
	for _, withStore := range []bool{false, true} {
		t.Run(map[bool]string{false: "local index only", true: "with an artifact store"}[withStore], func(t *testing.T) {
			out := t.TempDir()
			o := wheelstore.IndexingOptions{OutputDir: out, CacheDir: t.TempDir(), Logger: quiet}
			if withStore {
				o.Store = wheelstore.StoreConfig{URL: startS3(t).URL + "/wheels/refinery", AccessKey: "k", SecretKey: "s"}
			}
			ix, err := wheelstore.OpenIndexing(o)
			if err != nil {
				t.Fatal(err)
			}
			if ix.Dir() != filepath.Join(out, "simple") {
				t.Errorf("Dir = %s", ix.Dir())
			}
			ix.Run(context.Background())
			publishOne(t, ix, out)
			if err := ix.Close(); err != nil { // waits for the upload
				t.Fatal(err)
			}
			st := ix.Status()
			if st.Wheels != 1 || st.Projects != 1 || st.Error != "" {
				t.Errorf("status %+v", st)
			}
			if withStore != (st.UploadBacklog != nil) || (withStore && (*st.UploadBacklog != 0 || *st.UploadDead != 0)) {
				t.Errorf("upload status %v %v with store %v", st.UploadBacklog, st.UploadDead, withStore)
			}
			if n, want := len(ix.Collectors()), map[bool]int{false: 2, true: 5}[withStore]; n != want {
				t.Errorf("%d collectors, want %d", n, want)
			}

			// The index command, on a fresh open as the CLI does it.
			ix2, err := wheelstore.OpenIndexing(o)
			if err != nil {
				t.Fatal(err)
			}
			defer ix2.Close()
			var buf bytes.Buffer
			if err := ix2.Rebuild(context.Background(), out, &buf); err != nil {
				t.Fatalf("rebuild: %v\n%s", err, buf.String())
			}
			want := []string{"index rebuilt: 1 projects, 1 wheels"}
			if withStore {
				want = append(want, "uploading 1 wheels to the artifact store", "uploads done")
			}
			for _, w := range want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("rebuild output lacks %q:\n%s", w, buf.String())
				}
			}
			buf.Reset()
			if err := ix2.Verify(context.Background(), &buf); err != nil || !strings.Contains(buf.String(), "0 problems") {
				t.Errorf("verify: %v\n%s", err, buf.String())
			}
		})
	}
}

func TestIndexingVerifyFindsAChangedWheel(t *testing.T) {
	out := t.TempDir()
	ix, err := wheelstore.OpenIndexing(wheelstore.IndexingOptions{OutputDir: out, CacheDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	path := publishOne(t, ix, out)
	if err := os.WriteFile(filepath.Join(ix.Dir(), "pkg", filepath.Base(path)), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ix.Verify(context.Background(), &buf); !errors.Is(err, wheelstore.ErrMismatch) || !strings.Contains(buf.String(), "MISMATCH:") {
		t.Errorf("verify = %v\n%s", err, buf.String())
	}
}
