package diagnose

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

// The prefilter skips an expression on a line that lacks a literal every
// match needs, and lets it run otherwise.
func TestPrefilter(t *testing.T) {
	tests := []struct {
		name, expr, line string
		run              bool // the expression runs on the line
	}{
		{"longest literal present", `(?i)fatal error: (?:python\d?(?:\.\d+)?/)?Python\.h: No such file`,
			"x.c:2:10: fatal error: Python.h: No such file or directory", true},
		{"literal folded", `(?i)fatal error: (?:python\d?(?:\.\d+)?/)?Python\.h: No such file`,
			"X.C:2:10: FATAL ERROR: PYTHON.H: NO SUCH FILE", true},
		{"longest literal absent", `(?i)fatal error: (?:python\d?(?:\.\d+)?/)?Python\.h: No such file`,
			"gcc -pthread -c zz.c -o build/zz.o", false},
		{"one literal of several absent", `(?i)fatal error: (?:python\d?(?:\.\d+)?/)?Python\.h: No such file`,
			"fatal error: zlib.h: No such file or directory", false},
		{"second alternative", `(?i)can't find rust compiler|rustc?: (?:command )?not found|cargo: (?:command )?not found`,
			"/bin/sh: 1: cargo: not found", true},
		{"no alternative's literals", `(?i)can't find rust compiler|rustc?: (?:command )?not found|cargo: (?:command )?not found`,
			"compiling foo.c", false},
		{"nested alternative", `(?i)(?:unsupported|unknown|unrecognized) (?:cpu |target |machine )?(?:architecture|platform|processor)`,
			"#error unrecognized target processor", true},
		{"nested alternative absent", `(?i)(?:unsupported|unknown|unrecognized) (?:cpu |target |machine )?(?:architecture|platform|processor)`,
			"unknown option --foo", false},
		{"case-sensitive literal", `(?:ModuleNotFoundError|ImportError): .+`, "ImportError: no module", true},
		{"needs a byte past ASCII", `^\s*[│╰╭├─]`, "  running build_ext", false},
		{"line past ASCII is not filtered", `^\s*[│╰╭├─]`, "  ╰─> see above", true},
		{"no literal", `^\d+\s*$`, "anything at all", true},
		{"one-byte literal is not checked", `(?i)\d+x`, "anything at all", true},
		{"optional part gives no literal", `(?i)(?:fatal )?error`, "error", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustMatcher(tt.expr)
			var ln line
			run := !ln.set(tt.line) || m.pf.mayMatch(&ln)
			if run != tt.run {
				t.Errorf("runs on %q: %v, want %v (alternatives %s)", tt.line, run, tt.run, describe(m.pf))
			}
			if !run && m.re.MatchString(tt.line) {
				t.Errorf("skipped %q, which matches", tt.line)
			}
		})
	}
}

// The prefilter never skips an expression on a line it matches: every
// rule over the corpus and the classifier's test lines, in three cases.
func TestPrefilterNeverSkipsAMatch(t *testing.T) {
	lines := corpusLines(t)
	rules := NewRules()
	all := append([]matcher{rules.skip}, func() []matcher {
		var ms []matcher
		for _, r := range rules.rules {
			ms = append(ms, r.matcher)
		}
		return ms
	}()...)
	matched, skipped := 0, 0
	for _, l := range lines {
		for _, v := range []string{l, strings.ToUpper(l), strings.ToLower(l)} {
			v = strings.TrimSpace(v)
			var ln line
			ascii := ln.set(v)
			for _, m := range all {
				hit := m.re.MatchString(v)
				if hit {
					matched++
				}
				if ascii && !m.pf.mayMatch(&ln) {
					skipped++
					if hit {
						t.Errorf("%s skipped on %q, which it matches", m.re, v)
					}
				}
			}
		}
	}
	if matched == 0 || skipped == 0 {
		t.Fatalf("matched %d, skipped %d: the corpus tests nothing", matched, skipped)
	}
}

// Classify says the same with and without the prefilter.
func TestClassifySameUnfiltered(t *testing.T) {
	filtered, plain := NewRules(), NewRules()
	plain.skip.pf = prefilter{always: true}
	for i := range plain.rules {
		plain.rules[i].pf = prefilter{always: true}
	}
	res := pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonExit, ExitCode: 1, Error: "build exited with code 1"}
	for _, lines := range corpusLogs(t) {
		if got, want := filtered.Classify(lines, res), plain.Classify(lines, res); got.Class != want.Class || got.Summary != want.Summary {
			t.Errorf("filtered (%s, %q), unfiltered (%s, %q)", got.Class, got.Summary, want.Class, want.Summary)
		}
	}
}

func corpusLogs(t *testing.T) [][]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.log"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no corpus logs: %v", err)
	}
	var logs [][]string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, strings.Split(strings.TrimRight(string(b), "\n"), "\n"))
	}
	return logs
}

func corpusLines(t *testing.T) []string {
	var lines []string
	for _, l := range corpusLogs(t) {
		lines = append(lines, l...)
	}
	return append(lines,
		"zz.c:1:10: fatal error: zlib.h: No such file or directory",
		"/usr/bin/ld: cannot find -lssl: No such file or directory",
		"Package libffi was not found in the pkg-config search path.",
		"bash: line 1: cmake: command not found",
		"error: can't find Rust compiler",
		"#error unsupported architecture s390x",
		"Failed to establish a new connection: [Errno -3] Temporary failure in name resolution",
		"ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/",
		"ModuleNotFoundError: No module named 'Cython'",
		"FAILED tests/test_a.py::test_x - AssertionError",
		"===== 1 failed, 3 passed in 0.2s =====",
		"virtual memory exhausted: Cannot allocate memory",
		"error while loading shared libraries: libfoo.so.1",
		"cc1: error: unrecognized command-line option '-msse4'",
		"  ╰─> See above for output.",
		"  Building wheel for foo (pyproject.toml): started",
		"error: subprocess-exited-with-error",
		"exit code: 1",
	)
}

// describe lists a prefilter's alternatives and their literals.
func describe(p prefilter) string {
	if p.always {
		return "always"
	}
	alts := make([]string, len(p.alts))
	for i, alt := range p.alts {
		lits := make([]string, len(alt))
		for j, l := range alt {
			lits[j] = strconv.Quote(string(l.b))
		}
		alts[i] = "[" + strings.Join(lits, " ") + "]"
	}
	return strings.Join(alts, " | ")
}
