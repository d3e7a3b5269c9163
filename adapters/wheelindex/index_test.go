package wheelindex_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/refinery/refinery-worker/adapters/wheelindex"
	"github.com/refinery/refinery-worker/internal/testkit/wheeltest"
)

func openIndex(t testing.TB, out string) *wheelindex.Index {
	t.Helper()
	x, err := wheelindex.Open(wheelindex.Options{Dir: filepath.Join(out, "simple")})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func writeWheel(t testing.TB, dir string, s wheeltest.Spec) string {
	t.Helper()
	p, err := wheeltest.Write(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestPublishWritesBothPagesAndMetadata(t *testing.T) {
	out := t.TempDir()
	x := openIndex(t, out)
	src := writeWheel(t, out, wheeltest.Spec{Name: "Foo.Bar_baz", Version: "1.0", RequiresPython: ">=3.8,<4"})
	p, err := x.Publish(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Project != "foo-bar-baz" || p.Path != "foo-bar-baz/Foo_Bar_baz-1.0-py3-none-any.whl" {
		t.Fatalf("published %+v", p)
	}
	pdir := filepath.Join(out, "simple", "foo-bar-baz")
	var page wheelindex.ProjectPage
	readJSON(t, filepath.Join(pdir, "index.json"), &page)
	if page.Name != "Foo.Bar_baz" || len(page.Files) != 1 || page.Files[0].RequiresPython != ">=3.8,<4" ||
		len(page.Versions) != 1 || page.Versions[0] != "1.0" {
		t.Fatalf("json page %+v", page)
	}
	f := page.Files[0]
	md, err := os.ReadFile(filepath.Join(pdir, f.Filename+".metadata"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "Name: Foo.Bar_baz") || f.MetadataSHA256() != sha(md) {
		t.Fatalf("metadata file or its hash wrong: %q %+v", md, f)
	}
	whl, _ := os.ReadFile(src)
	if f.SHA256() != sha(whl) || f.Size != int64(len(whl)) {
		t.Fatalf("wheel hash/size %s %d", f.SHA256(), f.Size)
	}
	// pip 23.0 crashes on the JSON key dist-info-metadata (a dict): only core-metadata.
	if raw, _ := os.ReadFile(filepath.Join(pdir, "index.json")); strings.Contains(string(raw), "dist-info-metadata") ||
		!strings.Contains(string(raw), `"core-metadata":{"sha256":"`+sha(md)+`"}`) {
		t.Fatalf("json page metadata keys: %s", raw)
	}
	html, _ := os.ReadFile(filepath.Join(pdir, "index.html"))
	want := fmt.Sprintf(`<a href="%s#sha256=%s" data-requires-python="&gt;=3.8,&lt;4" data-dist-info-metadata="sha256=%s" data-core-metadata="sha256=%s">%s</a>`,
		f.Filename, sha(whl), sha(md), sha(md), f.Filename)
	if !strings.Contains(string(html), want) || !strings.Contains(string(html), `<meta name="pypi:repository-version" content="1.1">`) {
		t.Fatalf("html page:\n%s\nwant a line %s", html, want)
	}
	var root wheelindex.RootPage
	readJSON(t, filepath.Join(out, "simple", "index.json"), &root)
	if len(root.Projects) != 1 || root.Projects[0].Name != "Foo.Bar_baz" {
		t.Fatalf("root %+v", root)
	}
	rootHTML, _ := os.ReadFile(filepath.Join(out, "simple", "index.html"))
	if !strings.Contains(string(rootHTML), `<a href="foo-bar-baz/">Foo.Bar_baz</a>`) {
		t.Fatalf("root html %s", rootHTML)
	}
	if st, _ := x.Stats(); st.Projects != 1 || st.Wheels != 1 || st.Bytes != int64(len(whl)) {
		t.Fatalf("stats %+v", st)
	}
}

func TestPublishTwiceAndConflicts(t *testing.T) {
	out := t.TempDir()
	x := openIndex(t, out)
	ctx := context.Background()
	src := writeWheel(t, out, wheeltest.Spec{Name: "pkg", Version: "1.0"})
	if _, err := x.Publish(ctx, src, ""); err != nil {
		t.Fatal(err)
	}
	again, err := x.Publish(ctx, src, "")
	if err != nil || !again.Existed {
		t.Fatalf("same bytes again: %+v %v", again, err)
	}
	// Other bytes under the same file name are refused.
	other := t.TempDir()
	src2 := writeWheel(t, other, wheeltest.Spec{Name: "pkg", Version: "1.0", RequiresPython: ">=3"})
	if _, err := x.Publish(ctx, src2, ""); !errors.Is(err, wheelindex.ErrConflict) {
		t.Fatalf("want ErrConflict, got %v", err)
	}
	// A hash that is not the build's is refused.
	src3 := writeWheel(t, out, wheeltest.Spec{Name: "pkg", Version: "2.0"})
	if _, err := x.Publish(ctx, src3, strings.Repeat("0", 64)); err == nil || !strings.Contains(err.Error(), "changed since the build") {
		t.Fatalf("want a hash mismatch, got %v", err)
	}
	var page wheelindex.ProjectPage
	readJSON(t, filepath.Join(out, "simple", "pkg", "index.json"), &page)
	if len(page.Files) != 1 {
		t.Fatalf("page lists %d files, want 1", len(page.Files))
	}
	if pub, fail := x.Counters(); pub != 1 || fail != 2 {
		t.Fatalf("counters %d %d", pub, fail)
	}
	leftovers, _ := filepath.Glob(filepath.Join(out, "simple", "pkg", ".tmp-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
}

func TestPublishRejectsBadWheels(t *testing.T) {
	out := t.TempDir()
	x := openIndex(t, out)
	notZip := filepath.Join(out, "bad-1.0-py3-none-any.whl")
	os.WriteFile(notZip, []byte("not a zip"), 0o644)
	mismatch := writeWheel(t, t.TempDir(), wheeltest.Spec{Name: "other", Version: "1.0"})
	renamed := filepath.Join(out, "thing-1.0-py3-none-any.whl")
	if err := os.Rename(mismatch, renamed); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{notZip, "not a readable zip"},
		{renamed, "does not match"},
		{filepath.Join(out, "no-version.whl"), "want name-version"},
		{filepath.Join(out, ".hidden-1.0-py3-none-any.whl"), "leading dot"},
	} {
		if _, err := x.Publish(context.Background(), tc.path, ""); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want %q, got %v", filepath.Base(tc.path), tc.want, err)
		}
	}
	if st, _ := x.Stats(); st.Wheels != 0 {
		t.Fatalf("stats %+v", st)
	}
	// What the failures leave behind is not a broken index.
	if rep, err := x.Verify(context.Background()); err != nil || !rep.OK() {
		t.Fatalf("verify after refused publishes: %v %q", err, rep.Problems)
	}
}

// TestConcurrentWorkersLoseNoWheel: several processes (this test binary run
// again) and goroutines publish into one OUTPUT_DIR at once; every wheel is
// listed, every listed file is on disk with its hash.
func TestConcurrentWorkersLoseNoWheel(t *testing.T) {
	out := t.TempDir()
	const procs, perProc = 3, 20
	for p := 0; p < procs; p++ {
		for i := 0; i < perProc; i++ {
			// Few projects, so processes collide on the same pages.
			writeWheel(t, out, wheeltest.Spec{Name: fmt.Sprintf("proj%d", i%4), Version: fmt.Sprintf("%d.%d", p, i)})
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, procs+1)
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPublisher$")
			cmd.Env = append(os.Environ(), "WHEELINDEX_HELPER_DIR="+out, "WHEELINDEX_HELPER_MAJOR="+strconv.Itoa(p))
			if b, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("process %d: %v\n%s", p, err, b)
			}
		}()
	}
	// This process publishes the same wheels as process 0 meanwhile: no-ops or first.
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs <- publishMajor(out, 0)
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	x := openIndex(t, out)
	rep, err := x.Verify(context.Background())
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %v", err, rep.Problems)
	}
	if rep.Files != procs*perProc || rep.Projects != 4 {
		t.Fatalf("verify saw %d files in %d projects, want %d in 4", rep.Files, rep.Projects, procs*perProc)
	}
	if st, _ := x.Stats(); st.Wheels != procs*perProc || st.Projects != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func publishMajor(out string, major int) error {
	x, err := wheelindex.Open(wheelindex.Options{Dir: filepath.Join(out, "simple")})
	if err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(out, fmt.Sprintf("proj*-%d.*-py3-none-any.whl", major)))
	if len(files) == 0 {
		return errors.New("no wheels")
	}
	for _, f := range files {
		if _, err := x.Publish(context.Background(), f, ""); err != nil {
			return err
		}
	}
	return nil
}

// TestHelperPublisher is the body of TestConcurrentWorkersLoseNoWheel's
// child processes; it does nothing when run on its own.
func TestHelperPublisher(t *testing.T) {
	dir := os.Getenv("WHEELINDEX_HELPER_DIR")
	if dir == "" {
		return
	}
	major, _ := strconv.Atoi(os.Getenv("WHEELINDEX_HELPER_MAJOR"))
	if err := publishMajor(dir, major); err != nil {
		t.Fatal(err)
	}
}
