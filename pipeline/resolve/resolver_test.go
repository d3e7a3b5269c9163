package resolve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// memIndex is an in-memory Index: "name" → versions, each with its
// Requires-Dist lines. A version ending in "!yanked" is yanked.
type memIndex map[string]map[string][]string

func (m memIndex) Releases(_ context.Context, name string) ([]Release, error) {
	vs, ok := m[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	var out []Release
	for raw := range vs {
		v, yanked := strings.CutSuffix(raw, "!yanked")
		out = append(out, Release{Version: pep440.MustParse(v), Yanked: yanked})
	}
	return out, nil
}

func (m memIndex) Dependencies(_ context.Context, name string, v pep440.Version) (Dependencies, error) {
	for raw, reqs := range m[name] {
		if pep440.MustParse(strings.TrimSuffix(raw, "!yanked")).Equal(v) {
			var out []pep508.Requirement
			for _, r := range reqs {
				if r == "?" {
					return Dependencies{}, nil
				}
				if r == "!" {
					return Dependencies{}, fmt.Errorf("%s %s: Requires-Python >=4: %w", name, v, ErrUnusable)
				}
				req, err := pep508.ParseRequirement(r)
				if err != nil {
					return Dependencies{}, err
				}
				out = append(out, req)
			}
			return Dependencies{Requires: out, Known: true}, nil
		}
	}
	return Dependencies{}, fmt.Errorf("%s %s: no such version", name, v)
}

func reqs(t *testing.T, ss ...string) []pep508.Requirement {
	t.Helper()
	var out []pep508.Requirement
	for _, s := range ss {
		r, err := pep508.ParseRequirement(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func pins(res *Resolution) []string {
	var out []string
	for _, p := range res.Packages {
		out = append(out, p.Name+"=="+p.Version.String())
	}
	return out
}

var graph = memIndex{
	// a 2.0 needs c>=2 but b needs c<2: resolution must go back to a 1.0.
	"a":              {"1.0": {"c>=1"}, "2.0": {"c>=2"}},
	"b":              {"1.0": {"c<2"}},
	"c":              {"1.0": nil, "1.5": nil, "2.0": nil, "2.1rc1": nil},
	"d":              {"1.0": {`e; python_version < "3"`, `f; sys_platform == "linux"`, `g; extra == "x"`}},
	"e":              {"1.0": nil},
	"f":              {"1.0": nil, "1.1!yanked": nil},
	"g":              {"1.0": nil},
	"h":              {"3.0rc1": nil},
	"i":              {"1.0": {"?"}},
	"j":              {"1.0": nil, "2.0": {"!"}},
	"loopa":          {"1.0": {"loopb"}},
	"loopb":          {"1.0": {"loopa"}},
	"deep":           {"1.0": {"c", "Zope.Interface>=1"}},
	"wantsdx":        {"1.0": {"d[x]"}},
	"zope-interface": {"1.0": nil, "2.0": nil},
}

func TestResolve(t *testing.T) {
	env := pep508.TargetEnv("3.11", "manylinux2014_s390x")
	tests := []struct {
		name  string
		roots []string
		opts  Options
		want  []string
	}{
		{"newest", []string{"c"}, Options{}, []string{"c==2.0"}},
		{"backtracking", []string{"a", "b"}, Options{}, []string{"a==1.0", "b==1.0", "c==1.5"}},
		{"markers", []string{"d"}, Options{}, []string{"d==1.0", "f==1.0"}},
		{"extras", []string{"d[x]"}, Options{}, []string{"d==1.0", "f==1.0", "g==1.0"}},
		{"extras of two roots", []string{"d", "deep", "D[X]"}, Options{}, []string{"d==1.0", "deep==1.0", "f==1.0", "g==1.0", "c==2.0", "zope-interface==2.0"}},
		{"late extras", []string{"d", "wantsdx"}, Options{}, []string{"d==1.0", "wantsdx==1.0", "f==1.0", "g==1.0"}},
		{"yanked pinned", []string{"f==1.1"}, Options{}, []string{"f==1.1"}},
		{"prerelease only", []string{"h"}, Options{}, []string{"h==3.0rc1"}},
		{"prerelease asked", []string{"c>=2.1rc1"}, Options{}, []string{"c==2.1rc1"}},
		{"prerelease allowed", []string{"c"}, Options{AllowPre: true}, []string{"c==2.1rc1"}},
		{"unknown deps", []string{"i"}, Options{}, []string{"i==1.0"}},
		{"unusable release skipped", []string{"j"}, Options{}, []string{"j==1.0"}},
		{"cycle", []string{"loopa"}, Options{}, []string{"loopa==1.0", "loopb==1.0"}},
		{"root marker false", []string{`a; sys_platform == "win32"`, "c"}, Options{}, []string{"c==2.0"}},
		{"constraint", []string{"deep"}, Options{Constraints: reqs(t, "c<1.5", "zope_interface<2", "b==1.0")}, []string{"deep==1.0", "c==1.0", "zope-interface==1.0"}},
		{"override wins", []string{"c==1.0", "a"}, Options{Overrides: map[string]pep440.Version{"c": pep440.MustParse("1.5")}}, []string{"c==1.5", "a==2.0"}},
		{"pinned keeps input wheel", []string{"c", "a"}, Options{Preferred: map[string]pep440.Version{"c": pep440.MustParse("1.5")}}, []string{"c==1.5", "a==1.0"}},
		{"eager ignores input wheel", []string{"c", "a"}, Options{Strategy: Eager, Preferred: map[string]pep440.Version{"c": pep440.MustParse("1.5")}}, []string{"c==2.0", "a==2.0"}},
		{"eager keeps explicit pins", []string{"c==1.0", "a"}, Options{Strategy: Eager}, []string{"c==1.0", "a==1.0"}},
		{"normalised names", []string{"ZOPE_interface<2"}, Options{}, []string{"zope-interface==1.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Env, tt.opts.Logger = env, quiet
			res, err := New(graph, tt.opts).Resolve(context.Background(), reqs(t, tt.roots...))
			if err != nil {
				t.Fatal(err)
			}
			if got := pins(res); !slices.Equal(got, tt.want) {
				t.Errorf("resolution = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestResolveDetails(t *testing.T) {
	env := pep508.TargetEnv("3.11", "manylinux2014_s390x")
	res, err := New(graph, Options{Env: env, Logger: quiet, Overrides: map[string]pep440.Version{"c": pep440.MustParse("1.0")}}).
		Resolve(context.Background(), reqs(t, "deep", "i"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Package{}
	for _, p := range res.Packages {
		byName[p.Name] = p
	}
	if c := byName["c"]; c.Depth != 1 || !c.Overridden || !slices.Equal(c.RequiredBy, []string{"deep 1.0"}) || !c.DependenciesKnown {
		t.Errorf("c = %+v", c)
	}
	if i := byName["i"]; i.Depth != 0 || i.DependenciesKnown || !slices.Equal(i.RequiredBy, []string{"requirements"}) {
		t.Errorf("i = %+v", i)
	}
}

func TestResolveErrors(t *testing.T) {
	env := pep508.TargetEnv("3.11", "manylinux2014_s390x")
	tests := []struct {
		name  string
		roots []string
		opts  Options
		check func(error) bool
		want  []string
	}{
		{"conflict", []string{"a>=2", "b"}, Options{}, func(err error) bool {
			var c *ConflictError
			return errors.As(err, &c) && c.Package == "c"
		}, []string{"c", ">=2 (from a 2.0)", "<2 (from b 1.0)"}},
		{"no version", []string{"c>=3"}, Options{}, func(err error) bool {
			var c *ConflictError
			return errors.As(err, &c)
		}, []string{"c", ">=3 (from requirements)"}},
		{"yanked not pinned", []string{"f>1.0"}, Options{}, func(err error) bool {
			var c *ConflictError
			return errors.As(err, &c)
		}, []string{"f"}},
		{"only an unusable release", []string{"j>=2"}, Options{}, func(err error) bool {
			var c *ConflictError
			return errors.As(err, &c) && c.Reason != ""
		}, []string{"j 2.0 cannot be used", "Requires-Python >=4"}},
		{"max deps", []string{"a", "b"}, Options{MaxDeps: 2}, func(err error) bool { return errors.Is(err, ErrTooManyDeps) }, []string{"MAX_DEPS=2"}},
		{"not found", []string{"nope"}, Options{}, func(err error) bool { return errors.Is(err, ErrNotFound) }, []string{"nope"}},
		{"override missing", []string{"c"}, Options{Overrides: map[string]pep440.Version{"c": pep440.MustParse("9")}}, func(err error) bool { return err != nil }, []string{"override c==9"}},
		{"url", []string{"x @ https://example.org/x.whl"}, Options{}, func(err error) bool { return err != nil }, []string{"direct URL"}},
		{"too complex", []string{"a", "b", "c>=2"}, Options{MaxAttempts: 1}, func(err error) bool {
			var tc *TooComplexError
			return errors.As(err, &tc)
		}, []string{"gave up"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Env, tt.opts.Logger = env, quiet
			_, err := New(graph, tt.opts).Resolve(context.Background(), reqs(t, tt.roots...))
			if err == nil || !tt.check(err) {
				t.Fatalf("err = %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseOverrides(t *testing.T) {
	got, err := ParseOverrides(`{"NumPy": "1.26.4", "lxml": "==5.2.1", "zope.interface": " == 6.1 "}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["numpy"].String() != "1.26.4" || got["lxml"].String() != "5.2.1" || got["zope-interface"].String() != "6.1" {
		t.Errorf("overrides = %v", got)
	}
	for _, bad := range []string{`[]`, `{"a": 1}`, `{"a b": "1"}`, `{"a": ">=1"}`, `{"A": "1", "a": "2"}`} {
		if _, err := ParseOverrides(bad); err == nil {
			t.Errorf("ParseOverrides(%s) accepted", bad)
		}
	}
	if got, err := ParseOverrides(""); err != nil || len(got) != 0 {
		t.Errorf("empty overrides = %v, %v", got, err)
	}
}

func TestParseStrategy(t *testing.T) {
	for in, want := range map[string]Strategy{"": Pinned, "pinned": Pinned, "EAGER": Eager} {
		if got, err := ParseStrategy(in); err != nil || got != want {
			t.Errorf("ParseStrategy(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseStrategy("only-if-needed"); err == nil {
		t.Error("unknown strategy accepted")
	}
}

var quiet = slog.New(slog.DiscardHandler)

// TestBackjumping needs x to go back from 2.0 to 1.0 past four unrelated
// packages of ten versions each: chronological backtracking would try
// 10^4 combinations first, backjumping skips them.
func TestBackjumping(t *testing.T) {
	ix := memIndex{
		"x": {"1.0": {"w<2"}, "2.0": {"w>=2"}},
		"z": {"1.0": {"w<2"}},
		"w": {"1.0": nil, "2.0": nil},
	}
	roots := []string{"x"}
	for i := range 4 {
		name := fmt.Sprintf("y%d", i)
		ix[name] = map[string][]string{}
		for v := range 10 {
			ix[name][fmt.Sprintf("%d.0", v+1)] = nil
		}
		roots = append(roots, name)
	}
	roots = append(roots, "z")
	opts := Options{Env: pep508.TargetEnv("3.11", "manylinux2014_s390x"), Logger: quiet, MaxAttempts: 10}
	res, err := New(ix, opts).Resolve(context.Background(), reqs(t, roots...))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"x==1.0", "y0==10.0", "y1==10.0", "y2==10.0", "y3==10.0", "z==1.0", "w==1.0"}
	if got := pins(res); !slices.Equal(got, want) {
		t.Errorf("resolution = %v, want %v", got, want)
	}
}
