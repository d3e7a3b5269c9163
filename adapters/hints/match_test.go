package hints

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

func TestMatch(t *testing.T) {
	log := []string{
		"gcc -pthread -c zz.c -o build/zz.o",
		"zz.c:1:10: fatal error: zlib.h: No such file or directory",
		"error: command '/usr/bin/gcc' failed with exit code 1",
	}
	s390 := Job{Name: "zz-pkg", PythonVersion: "3.11", PythonTag: "cp311", PlatformTag: "manylinux2014_s390x"}
	tests := []struct {
		name string
		hint Hint
		job  Job
		want bool
	}{
		{"plain", Hint{ID: "h", Pattern: `zlib\.h: No such file`}, s390, true},
		{"case-insensitive", Hint{ID: "h", Pattern: `(?i)FATAL ERROR: ZLIB\.H`}, s390, true},
		{"no match", Hint{ID: "h", Pattern: `fatal error: ffi\.h`}, s390, false},
		{"package", Hint{ID: "h", Pattern: `zlib\.h`, AppliesTo: AppliesTo{Packages: []string{"ZZ_Pkg"}}}, s390, true},
		{"other package", Hint{ID: "h", Pattern: `zlib\.h`, AppliesTo: AppliesTo{Packages: []string{"other"}}}, s390, false},
		{"package pattern", Hint{ID: "h", Pattern: `zlib\.h`, AppliesTo: AppliesTo{PackagePatterns: []string{"zz-*"}}}, s390, true},
		{"arch", Hint{ID: "h", Pattern: `zlib\.h`, AppliesTo: AppliesTo{Arch: []string{"s390x"}}}, s390, true},
		{"other arch", Hint{ID: "h", Pattern: `zlib\.h`, AppliesTo: AppliesTo{Arch: []string{"x86_64"}}}, s390, false},
		{"python major", Hint{ID: "h", Pattern: `zlib\.h`, AppliesTo: AppliesTo{PythonVersions: []string{"3"}}}, s390, true},
		{"python other", Hint{ID: "h", Pattern: `zlib\.h`, AppliesTo: AppliesTo{PythonVersions: []string{"3.1"}}}, s390, false},
		{"python tag", Hint{ID: "h", Pattern: `zlib\.h`, AppliesTo: AppliesTo{PythonTags: []string{"cp312"}}}, s390, false},
		{"platform glob", Hint{ID: "h", Pattern: `zlib\.h`, AppliesTo: AppliesTo{PlatformTags: []string{"manylinux*_s390x"}}}, s390, true},
		{"backend unknown", Hint{ID: "h", Pattern: `zlib\.h`, AppliesTo: AppliesTo{BuildBackends: []string{"setuptools.build_meta"}}}, s390, true},
		{"backend other", Hint{ID: "h", Pattern: `zlib\.h`, AppliesTo: AppliesTo{BuildBackends: []string{"setuptools.build_meta"}}},
			Job{Name: "zz-pkg", BuildBackend: "maturin"}, false},
		{"alternation", Hint{ID: "h", Pattern: `(?:ffi|zlib)\.h: No`}, s390, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compile([]Hint{tt.hint}, nil, nil).Match(tt.job, log)
			if (len(got) == 1) != tt.want {
				t.Fatalf("matches = %v, want match %v", got, tt.want)
			}
		})
	}
}

// A bad hint is skipped with a warning naming it; the others still match.
func TestCompileSkipsBadHints(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	c := Compile([]Hint{
		{ID: "bad-re", Pattern: `(unclosed`},
		{ID: "too-long", Pattern: strings.Repeat("a", MaxPatternBytes+1)},
		{ID: "", Pattern: "x"},
		{ID: "conf", Pattern: "x", Confidence: 2},
		{ID: "ok", Pattern: "zlib", Confidence: 0.9},
	}, log, nil)
	if c.Len() != 1 || len(c.Skipped) != 4 {
		t.Fatalf("len %d, skipped %v", c.Len(), c.Skipped)
	}
	if n := strings.Count(buf.String(), "skipping hint"); n != 4 || !strings.Contains(buf.String(), "hint_id=bad-re") {
		t.Fatalf("warnings:\n%s", buf.String())
	}
	if m := c.Match(Job{}, []string{"zlib"}); len(m) != 1 || m[0] != (pipeline.HintMatch{ID: "ok", Confidence: 0.9}) {
		t.Fatalf("matches %v", m)
	}
}

// Only the last MaxLogBytes of a log are scanned.
func TestMatchScansOnlyTheLogEnd(t *testing.T) {
	c := Compile([]Hint{{ID: "early", Pattern: "EARLY-MARKER"}, {ID: "late", Pattern: "LATE-MARKER"}}, nil, nil)
	lines := []string{"EARLY-MARKER"}
	for range MaxLogBytes/100 + 1 {
		lines = append(lines, strings.Repeat("x", 99))
	}
	lines = append(lines, "LATE-MARKER")
	m := c.Match(Job{}, lines)
	if len(m) != 1 || m[0].ID != "late" {
		t.Fatalf("matches %v", m)
	}
}

func TestFragments(t *testing.T) {
	for _, tc := range []struct{ pattern, want string }{
		{`fatal error: zlib\.h: No such file`, "fatal error: zlib.h: no such fil"},
		{`(?i)Cannot find -lssl\b`, "cannot find -lssl"},
		{`(?:abc|bcd) foo bar`, " foo bar"},
		{`x+ error: y`, " error: y"},
		{`(?i)tool1: (?:command )?not found`, "not found|tool1: "},
		{`.*`, ""},
	} {
		e := Compile([]Hint{{ID: "h", Pattern: tc.pattern}}, nil, nil)
		var got []string
		for _, f := range e.entries[0].frags {
			got = append(got, e.frags[f])
		}
		if strings.Join(got, "|") != tc.want {
			t.Errorf("%s: fragments %q, want %q", tc.pattern, got, tc.want)
		}
	}
}
