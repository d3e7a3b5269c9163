package wheelindex_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/wheelindex"
)

func TestNormalize(t *testing.T) {
	// PEP 503's own definition, for comparison.
	pep503 := func(s string) string { return strings.ToLower(regexp.MustCompile(`[-_.]+`).ReplaceAllString(s, "-")) }
	for _, name := range []string{"Foo", "foo-bar", "Foo.Bar_baz", "a__b", "A-_.-B", "x1.2", "zope.interface", "ruamel.yaml.clib", "abc", "a", "Ab-"} {
		got := wheelindex.Normalize(name)
		if got != pep503(name) {
			t.Errorf("Normalize(%q) = %q, want %q", name, got, pep503(name))
		}
		if !strings.HasSuffix(name, "-") && !wheelindex.IsNormalized(got) {
			t.Errorf("IsNormalized(%q) = false", got)
		}
	}
	for _, s := range []string{"", "-a", "a-", "a--b", "A", "a_b", "a.b"} {
		if wheelindex.IsNormalized(s) {
			t.Errorf("IsNormalized(%q) = true", s)
		}
	}
}

func TestParseWheelName(t *testing.T) {
	for _, tc := range []struct {
		file, dist, version, build, err string
	}{
		{file: "foo-1.0-py3-none-any.whl", dist: "foo", version: "1.0"},
		{file: "Foo_Bar-2.0.post1-1-cp311-cp311-manylinux2014_s390x.whl", dist: "Foo_Bar", version: "2.0.post1", build: "1"},
		{file: "foo-1.0.tar.gz", err: "does not end in .whl"},
		{file: "foo-py3-none-any.whl", err: "want name-version"},
		{file: "../foo-1.0-py3-none-any.whl", err: "characters outside"},
		{file: "foo-1.0-py3-none-any.whl/x", err: "characters outside"},
		{file: "foo--1.0-py3-none-any.whl", err: "empty component"},
	} {
		w, err := wheelindex.ParseWheelName(tc.file)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: want error %q, got %v", tc.file, tc.err, err)
			}
			continue
		}
		if err != nil || w.Dist != tc.dist || w.Version != tc.version || w.Build != tc.build {
			t.Errorf("%s: %+v %v", tc.file, w, err)
		}
	}
}
