package pyindex_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/pyindex"
	"github.com/refinery/refinery-worker/internal/testkit/pyindextest"
	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
	"github.com/refinery/refinery-worker/pipeline/resolve"
)

var testDists = []pyindextest.Dist{
	{Name: "alpha", Version: "1.0", WheelTags: []string{"py3-none-any"}, PEP658: true, Requires: []string{"beta>=1"}},
	{Name: "alpha", Version: "2.0", WheelTags: []string{"py3-none-any"}, PEP658: true, Requires: []string{"beta>=2", `gamma; extra == "g"`}, Extras: []string{"g"}},
	{Name: "alpha", Version: "3.0", WheelTags: []string{"py3-none-any"}, RequiresPython: ">=3.12"},
	{Name: "alpha", Version: "2.5", WheelTags: []string{"py3-none-any"}, Yanked: "broken"},
	{Name: "Beta_Pkg", Version: "1.0", WheelTags: []string{"py3-none-any", "cp311-cp311-manylinux2014_s390x"}, Requires: []string{"six"}, Pad: 300_000},
	{Name: "sdist-only", Version: "1.0", Sdist: true, Requires: []string{"six>=1.16"}},
	{Name: "sdist-only", Version: "0.9", Sdist: true, SdistMetadataVersion: "2.1", Requires: []string{"six"}},
	{Name: "sdist-only", Version: "0.8", Sdist: true, SdistDynamic: []string{"Requires-Dist"}, Requires: []string{"six"}},
}

func startIndex(t *testing.T, dists []pyindextest.Dist, opts pyindextest.Options) *pyindextest.Server {
	t.Helper()
	s, err := pyindextest.Start(dists, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, cfg pyindex.Config) *pyindex.Client {
	t.Helper()
	c, err := pyindex.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func versions(rs []resolve.Release) []string {
	var out []string
	for _, r := range rs {
		s := r.Version.String()
		if r.Yanked {
			s += "(yanked)"
		}
		out = append(out, s)
	}
	return out
}

func TestReleasesJSONAndHTML(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts pyindextest.Options
		page string
	}{
		{"pep691", pyindextest.Options{}, "page-json"},
		{"pep503", pyindextest.Options{NoJSON: true}, "page-html"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			idx := startIndex(t, testDists, tt.opts)
			c := newClient(t, pyindex.Config{IndexURL: idx.URL(), PythonVersion: "3.11"})
			rs, err := c.Releases(context.Background(), "Alpha")
			if err != nil {
				t.Fatal(err)
			}
			// 3.0 needs Python 3.12: dropped. 2.5 is yanked.
			if got, want := versions(rs), []string{"2.5(yanked)", "2.0", "1.0"}; !slices.Equal(got, want) {
				t.Errorf("releases = %v, want %v", got, want)
			}
			if idx.Count(tt.page) != 1 {
				t.Errorf("%s requests = %d", tt.page, idx.Count(tt.page))
			}
			p, err := c.Project(context.Background(), "beta.pkg")
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Files) != 2 || p.Files[1].Tags.Platform != "manylinux2014_s390x" || p.Files[0].Hashes["sha256"] == "" {
				t.Errorf("beta files = %+v", p.Files)
			}
			if p.Files[0].URL.Fragment != "" || !strings.HasSuffix(p.Files[0].URL.Path, "/files/Beta_Pkg-1.0-py3-none-any.whl") {
				t.Errorf("beta URL = %s", p.Files[0].URL)
			}
		})
	}
}

func TestDependenciesSources(t *testing.T) {
	tests := []struct {
		name, project, version string
		opts                   pyindextest.Options
		want                   []string
		known                  bool
		count                  string
	}{
		{"pep658", "alpha", "2.0", pyindextest.Options{}, []string{"beta>=2", `gamma; extra == "g"`}, true, "metadata"},
		{"wheel by range", "beta-pkg", "1.0", pyindextest.Options{}, []string{"six"}, true, "range"},
		{"whole wheel", "beta-pkg", "1.0", pyindextest.Options{NoRanges: true}, []string{"six"}, true, "file"},
		{"sdist 2.2", "sdist-only", "1.0", pyindextest.Options{}, []string{"six>=1.16"}, true, "file"},
		{"sdist 2.1", "sdist-only", "0.9", pyindextest.Options{}, nil, false, "file"},
		{"sdist dynamic", "sdist-only", "0.8", pyindextest.Options{}, nil, false, "file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx := startIndex(t, testDists, tt.opts)
			c := newClient(t, pyindex.Config{IndexURL: idx.URL()})
			deps, err := c.Dependencies(context.Background(), tt.project, pep440.MustParse(tt.version))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range deps.Requires {
				got = append(got, r.String())
			}
			if !slices.Equal(got, tt.want) || deps.Known != tt.known {
				t.Errorf("deps = %q known %v, want %q known %v", got, deps.Known, tt.want, tt.known)
			}
			if idx.Count(tt.count) == 0 {
				t.Errorf("no %q request served", tt.count)
			}
			if tt.count == "range" && idx.Count("file") != 0 {
				t.Errorf("range-capable server still sent the whole wheel")
			}
		})
	}
}

func TestAuth(t *testing.T) {
	idx := startIndex(t, testDists, pyindextest.Options{Username: "u", Password: "p w"})
	ctx := context.Background()

	_, err := newClient(t, pyindex.Config{IndexURL: idx.URL()}).Releases(ctx, "alpha")
	var se *pyindex.StatusError
	if !errors.As(err, &se) || se.Status != 401 {
		t.Fatalf("no credentials: err = %v", err)
	}

	u, _ := url.Parse(idx.URL())
	u.User = url.UserPassword("u", "p w")
	c := newClient(t, pyindex.Config{IndexURL: u.String()})
	if _, err := c.Dependencies(ctx, "beta-pkg", pep440.MustParse("1.0")); err != nil {
		t.Fatalf("credentials in URL: %v", err)
	}
	if strings.Contains(err.Error(), "p w") {
		t.Errorf("error leaks the password: %v", err)
	}

	c = newClient(t, pyindex.Config{IndexURL: idx.URL(), Username: "u", Password: "p w"})
	if _, err := c.Dependencies(ctx, "alpha", pep440.MustParse("2.0")); err != nil {
		t.Fatalf("credentials from config: %v", err)
	}
}

func TestNotFoundAndExtraIndex(t *testing.T) {
	main := startIndex(t, testDists[:4], pyindextest.Options{})
	extra := startIndex(t, []pyindextest.Dist{{Name: "alpha", Version: "4.0", WheelTags: []string{"py3-none-any"}}, {Name: "six", Version: "1.16.0", WheelTags: []string{"py2.py3-none-any"}}}, pyindextest.Options{NoJSON: true})
	c := newClient(t, pyindex.Config{IndexURL: main.URL(), ExtraIndexURLs: []string{extra.URL()}})
	ctx := context.Background()
	rs, err := c.Releases(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(rs); !slices.Equal(got, []string{"4.0", "3.0", "2.5(yanked)", "2.0", "1.0"}) {
		t.Errorf("merged releases = %v", got)
	}
	if _, err := c.Releases(ctx, "six"); err != nil {
		t.Errorf("six from the extra index: %v", err)
	}
	if _, err := c.Releases(ctx, "nope"); !errors.Is(err, resolve.ErrNotFound) {
		t.Errorf("missing project: err = %v", err)
	}
}

func TestDiskCacheRevalidates(t *testing.T) {
	idx := startIndex(t, testDists, pyindextest.Options{})
	dir := t.TempDir()
	ctx := context.Background()
	for round := range 2 {
		c := newClient(t, pyindex.Config{IndexURL: idx.URL(), CacheDir: dir})
		if _, err := c.Releases(ctx, "beta-pkg"); err != nil {
			t.Fatal(err)
		}
		deps, err := c.Dependencies(ctx, "beta-pkg", pep440.MustParse("1.0"))
		if err != nil || len(deps.Requires) != 1 {
			t.Fatalf("round %d: deps %v, %v", round, deps, err)
		}
	}
	if idx.Count("page-json") != 2 || idx.Count("not-modified") != 1 {
		t.Errorf("pages %d, not modified %d; want 2 and 1", idx.Count("page-json"), idx.Count("not-modified"))
	}
	ranges := idx.Count("range")
	if ranges == 0 {
		t.Fatal("no range requests")
	}
	c := newClient(t, pyindex.Config{IndexURL: idx.URL(), CacheDir: dir})
	if _, err := c.Dependencies(ctx, "beta-pkg", pep440.MustParse("1.0")); err != nil {
		t.Fatal(err)
	}
	if idx.Count("range") != ranges {
		t.Errorf("wheel metadata fetched again from a warm cache")
	}
}

func TestHashMismatch(t *testing.T) {
	for _, tt := range []struct {
		name, project, version string
		opts                   pyindextest.Options
	}{
		{"pep658 metadata", "alpha", "2.0", pyindextest.Options{WrongHashes: true}},
		{"sdist", "sdist-only", "1.0", pyindextest.Options{WrongHashes: true}},
		{"whole wheel", "beta-pkg", "1.0", pyindextest.Options{WrongHashes: true, NoRanges: true, NoJSON: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			idx := startIndex(t, testDists, tt.opts)
			c := newClient(t, pyindex.Config{IndexURL: idx.URL(), Logger: quiet})
			_, err := c.Dependencies(context.Background(), tt.project, pep440.MustParse(tt.version))
			if !errors.Is(err, pyindex.ErrHashMismatch) {
				t.Errorf("err = %v, want a hash mismatch", err)
			}
		})
	}
}

var quiet = slog.New(slog.DiscardHandler)

func TestRequiresPythonFromMetadata(t *testing.T) {
	idx := startIndex(t, []pyindextest.Dist{
		{Name: "late", Version: "1.0", WheelTags: []string{"py3-none-any"}},
		{Name: "late", Version: "2.0", WheelTags: []string{"py3-none-any"}, RequiresPython: ">=3.12", HideRequiresPython: true},
	}, pyindextest.Options{})
	c := newClient(t, pyindex.Config{IndexURL: idx.URL(), PythonVersion: "3.11", Logger: quiet})
	rs, err := c.Releases(context.Background(), "late")
	if err != nil || len(rs) != 2 {
		t.Fatalf("releases = %v, %v (the page hides Requires-Python)", versions(rs), err)
	}
	_, err = c.Dependencies(context.Background(), "late", pep440.MustParse("2.0"))
	if !errors.Is(err, resolve.ErrUnusable) || !strings.Contains(err.Error(), ">=3.12") {
		t.Errorf("err = %v", err)
	}
	r, _ := pep508.ParseRequirement("late")
	res, err := resolve.New(c, resolve.Options{Env: pep508.TargetEnv("3.11", "manylinux2014_s390x"), Logger: quiet}).
		Resolve(context.Background(), []pep508.Requirement{r})
	if err != nil || res.Packages[0].Version.String() != "1.0" {
		t.Errorf("resolution = %+v, %v", res, err)
	}
}
