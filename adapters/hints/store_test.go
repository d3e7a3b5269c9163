package hints_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/hints"
	"github.com/refinery/refinery-worker/pipeline"
)

// The store reads every page of GET /api/hints, and keeps serving the last
// good catalog when the control-plane fails.
func TestStoreControlPlanePagesAndLastGoodCopy(t *testing.T) {
	fake := cpfake.New(cpfake.Options{})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var hs []cpfake.Hint
	for i := range 450 {
		hs = append(hs, cpfake.Hint{ID: fmt.Sprintf("h%03d", i), Pattern: fmt.Sprintf(`fatal error: lib%03d\.h`, i), Confidence: 0.5})
	}
	hs = append(hs, cpfake.Hint{ID: "zlib", Pattern: `fatal error: zlib\.h: No such file`, Confidence: 0.9,
		Recipes: map[string][]string{"apt": {"zlib1g-dev"}}, AppliesTo: map[string][]string{"arch": {"x86_64"}}})
	fake.SetHints(hs)
	client, err := controlplane.New(controlplane.Options{BaseURL: srv.URL, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st := hints.NewStore(hints.ControlPlane{Client: client}, slog.New(slog.DiscardHandler))
	if err := st.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if n := st.Catalog().Len(); n != 451 || fake.HintGets() != 3 {
		t.Fatalf("loaded %d hints in %d pages", n, fake.HintGets())
	}
	job := pipeline.Job{Name: "zz", PlatformTag: "linux_x86_64"}
	log := []string{"zz.c:1:10: fatal error: zlib.h: No such file or directory"}
	want := func() {
		t.Helper()
		if m := st.Match(ctx, job, log); len(m) != 1 || m[0].ID != "zlib" || m[0].Confidence != 0.9 {
			t.Fatalf("matches %v", m)
		}
	}
	want()
	fake.SetFailure(cpfake.Fail500)
	if err := st.Refresh(ctx); err == nil {
		t.Fatal("refresh against a failing control-plane succeeded")
	}
	want()
	if m := st.Match(ctx, pipeline.Job{Name: "zz", PlatformTag: "manylinux2014_s390x"}, log); len(m) != 0 {
		t.Fatalf("arch filter ignored: %v", m)
	}
}

// HINTS_FILE may be YAML or JSON, a list or {"items": [...]}.
func TestStoreFile(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"list.yaml": "- id: zlib\n  pattern: 'zlib\\.h: No such file'\n  recipes: {apt: [zlib1g-dev], dnf: [zlib-devel]}\n  applies_to: {packages: [zz]}\n  confidence: 0.9\n- id: bad\n  pattern: '(x'\n",
		"page.yaml": "items:\n  - id: zlib\n    pattern: 'zlib\\.h: No such file'\n    confidence: 0.9\n",
		"list.json": `[{"id":"zlib","pattern":"zlib\\.h: No such file","confidence":0.9}]`,
		"page.json": `{"items":[{"id":"zlib","pattern":"zlib\\.h: No such file","confidence":0.9}],"total":1}`,
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			st := hints.NewStore(hints.File{Path: p}, slog.New(slog.DiscardHandler))
			if err := st.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			m := st.Match(context.Background(), pipeline.Job{Name: "zz"}, []string{"fatal error: zlib.h: No such file or directory"})
			if len(m) != 1 || m[0].ID != "zlib" {
				t.Fatalf("matches %v", m)
			}
			if h, _ := st.Catalog().Hint("zlib"); name == "list.yaml" && h.Recipes["dnf"][0] != "zlib-devel" {
				t.Fatalf("recipes %v", h.Recipes)
			}
		})
	}
	st := hints.NewStore(hints.File{Path: filepath.Join(dir, "absent.yaml")}, slog.New(slog.DiscardHandler))
	if err := st.Refresh(context.Background()); err == nil {
		t.Fatal("absent file loaded")
	}
}
