package wheelindex_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/wheelindex"
	"github.com/refinery/refinery-worker/internal/testkit/wheeltest"
)

func publishSome(t *testing.T, out string) *wheelindex.Index {
	t.Helper()
	x := openIndex(t, out)
	for _, s := range []wheeltest.Spec{{Name: "alpha", Version: "1.0"}, {Name: "alpha", Version: "1.1", RequiresPython: ">=3.9"},
		{Name: "Beta_Pkg", Version: "0.1"}} {
		if _, err := x.Publish(context.Background(), writeWheel(t, out, s), ""); err != nil {
			t.Fatal(err)
		}
	}
	return x
}

func TestVerifyFindsEachKindOfMismatch(t *testing.T) {
	cases := []struct {
		name   string
		damage func(simple string)
		want   string
	}{
		{"wheel bytes changed", func(s string) {
			os.WriteFile(filepath.Join(s, "alpha", "alpha-1.0-py3-none-any.whl"), []byte("other bytes"), 0o644)
		}, "alpha/alpha-1.0-py3-none-any.whl: sha256"},
		{"wheel removed", func(s string) { os.Remove(filepath.Join(s, "alpha", "alpha-1.1-py3-none-any.whl")) },
			"listed but not a regular file"},
		{"metadata changed", func(s string) {
			os.WriteFile(filepath.Join(s, "beta-pkg", "Beta_Pkg-0.1-py3-none-any.whl.metadata"), []byte("Name: x\n"), 0o644)
		}, ".metadata: sha256"},
		{"unlisted wheel", func(s string) {
			b, _ := os.ReadFile(filepath.Join(s, "alpha", "alpha-1.0-py3-none-any.whl"))
			os.WriteFile(filepath.Join(s, "alpha", "alpha-9.0-py3-none-any.whl"), b, 0o644)
		}, "on disk but not listed"},
		{"html page edited", func(s string) {
			os.WriteFile(filepath.Join(s, "alpha", "index.html"), []byte("<html></html>"), 0o644)
		}, "alpha: index.html does not match"},
		{"project missing from root", func(s string) {
			os.MkdirAll(filepath.Join(s, "gamma"), 0o755)
			os.WriteFile(filepath.Join(s, "gamma", "index.json"), []byte(`{"meta":{"api-version":"1.1"},"name":"gamma","files":[],"versions":[]}`), 0o644)
		}, "gamma: not listed on the root page"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			x := publishSome(t, out)
			if rep, err := x.Verify(context.Background()); err != nil || !rep.OK() || rep.Files != 3 {
				t.Fatalf("before damage: %v %+v", err, rep)
			}
			tc.damage(x.Dir())
			rep, err := x.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), tc.want) {
				t.Fatalf("want a problem containing %q, got %q", tc.want, rep.Problems)
			}
		})
	}
}

func TestRebuildRestoresPagesFromWheels(t *testing.T) {
	out := t.TempDir()
	x := publishSome(t, out)
	// Pages and metadata files lost; a stray invalid wheel appears.
	for _, p := range []string{"index.json", "index.html", "alpha/index.json", "alpha/index.html", "beta-pkg/index.html",
		"alpha/alpha-1.0-py3-none-any.whl.metadata"} {
		if err := os.Remove(filepath.Join(x.Dir(), p)); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(x.Dir(), "alpha", "alpha-2.0-py3-none-any.whl"), []byte("junk"), 0o644)
	rep, err := x.Rebuild(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Projects != 2 || rep.Wheels != 3 || len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0], "alpha-2.0") {
		t.Fatalf("rebuild report %+v", rep)
	}
	var page wheelindex.ProjectPage
	readJSON(t, filepath.Join(x.Dir(), "alpha", "index.json"), &page)
	if len(page.Files) != 2 || page.Files[1].RequiresPython != ">=3.9" || page.Name != "alpha" {
		t.Fatalf("rebuilt page %+v", page)
	}
	var beta wheelindex.ProjectPage
	readJSON(t, filepath.Join(x.Dir(), "beta-pkg", "index.json"), &beta)
	if beta.Name != "Beta_Pkg" {
		t.Fatalf("display name %q", beta.Name)
	}
	// The unlisted junk wheel is what verify still reports; removing it makes the index whole.
	os.Remove(filepath.Join(x.Dir(), "alpha", "alpha-2.0-py3-none-any.whl"))
	if vr, err := x.Verify(context.Background()); err != nil || !vr.OK() {
		t.Fatalf("verify after rebuild: %v %q", err, vr.Problems)
	}
	if st, _ := x.Stats(); st.Projects != 2 || st.Wheels != 3 {
		t.Fatalf("stats %+v", st)
	}
}
