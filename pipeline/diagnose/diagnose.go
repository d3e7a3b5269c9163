// Package diagnose sorts a failed build into a pipeline.FailureClass and
// picks its decisive log line: the one an operator would quote when saying
// why the build failed.
package diagnose

import (
	"strings"

	"github.com/refinery/refinery-worker/pipeline"
)

// MaxSummary bounds the summary line, in bytes.
const MaxSummary = 300

// rule is one kind of decisive line. A higher rank wins over a lower one;
// among lines of the same rank the first (the root cause, before the
// follow-up errors) wins.
type rule struct {
	matcher
	class pipeline.FailureClass
	rank  int
}

// Ranks of the rules: a specific cause beats a generic error line.
const (
	rankGeneric  = 1 // "error: ...", pip's resolver, a failed command
	rankImport   = 2 // an import error
	rankSpecific = 3 // a cause the class names
	rankPython   = 4 // Python.h beats the generic missing header
)

// Rules is the fixed rule set; build it once with NewRules and share it (it
// is read-only).
type Rules struct {
	rules []rule
	skip  matcher
}

// NewRules compiles the classifier's rules.
func NewRules() *Rules {
	r := func(expr string, c pipeline.FailureClass, rank int) rule {
		return rule{matcher: mustMatcher(expr), class: c, rank: rank}
	}
	return &Rules{
		rules: []rule{
			r(`(?i)fatal error: (?:python\d?(?:\.\d+)?/)?Python\.h: No such file`, pipeline.ClassPythonHeaders, rankPython),
			r(`(?i)(?:fatal error|error): [^\s:]+\.h(?:h|pp|xx)?: No such file or directory`, pipeline.ClassMissingHeader, rankSpecific),
			r(`(?i)(?:ld|collect2)[^:]*: (?:error: )?cannot find -l\S+`, pipeline.ClassMissingLibrary, rankSpecific),
			r(`(?i)package '?\S+'? was not found in the pkg-config search path`, pipeline.ClassMissingLibrary, rankSpecific),
			r(`(?i)error while loading shared libraries: \S+`, pipeline.ClassMissingLibrary, rankSpecific),
			r(`(?i)can't find rust compiler|rustc?: (?:command )?not found|cargo: (?:command )?not found|cargo, the rust package manager, is not installed|rust compiler .* not found|error: could not find .?cargo`, pipeline.ClassRustToolchain, rankSpecific),
			r(`(?i)(?:unsupported|unknown|unrecognized) (?:cpu |target |machine )?(?:architecture|platform|processor)|#error .*(?:architecture|platform)|unrecognized command[- ]line option '-m(?:sse|avx|arch=native|64|32)`, pipeline.ClassUnsupportedArch, rankSpecific),
			r(`(?i)temporary failure in name resolution|could not resolve host|failed to establish a new connection|network is unreachable|connection refused|name or service not known|read timed out`, pipeline.ClassNetwork, rankSpecific),
			r(`(?i)virtual memory exhausted|cannot allocate memory|out of memory|internal compiler error: killed|oom-kill`, pipeline.ClassOOM, rankSpecific),
			r(`(?i)\S+: (?:command )?not found$|error: command '[^']+' failed: no such file or directory|no such file or directory: '(?:gcc|g\+\+|cc|c\+\+|make|cmake|ninja|gfortran|swig|pkg-config)'|cmake (?:must be installed|not found)|could not find (?:a )?(?:fortran|c\+\+|c) compiler|no (?:fortran|c\+\+|c) compiler found|unable to find a compiler`, pipeline.ClassMissingTool, rankSpecific),
			r(`^(?:FAILED \S+|=+ .*\d+ failed.*=+$)`, pipeline.ClassTestFailure, rankSpecific),
			r(`(?:ModuleNotFoundError|ImportError): .+`, pipeline.ClassUnknown, rankImport),
			r(`(?i)resolutionimpossible|could not find a version that satisfies the requirement|no matching distribution found|conflicting dependencies`, pipeline.ClassUnknown, rankGeneric),
			r(`(?i)(?:^|\s|:)error: .+|^error\b.+`, pipeline.ClassUnknown, rankGeneric),
		},
		// Wrapper and progress lines that say a build failed without saying
		// why; never a summary.
		skip: mustMatcher(`(?i)subprocess-exited-with-error|metadata-generation-failed|failed building wheel|could not build wheels|error originates from a subprocess|exit code: \d+$|^\s*(?:collecting|downloading|installing|building|running|copying|creating|processing|requirement already|successfully|using cached|preparing|getting requirements)\b|^\s*[│╰╭├─]`),
	}
}

// Classify diagnoses a failed build from its redacted log tail (oldest line
// first) and its result. It always returns a class; the summary is empty
// only when neither the log nor the result says anything.
//
// An expression runs on a line only when the line holds the literals it
// needs (see prefilter): most lines of a log hold none.
func (r *Rules) Classify(lines []string, res pipeline.Result) pipeline.Failure {
	best, rank := -1, 0
	var class pipeline.FailureClass
	ln := new(line)
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		ascii := ln.set(l)
		if r.skip.match(l, ln, ascii) {
			continue
		}
		for _, ru := range r.rules {
			if ru.rank > rank && ru.match(l, ln, ascii) {
				best, rank, class = i, ru.rank, ru.class
				break
			}
		}
	}
	f := pipeline.Failure{Class: pipeline.ClassUnknown}
	if best >= 0 {
		f.Summary, f.Class = strings.TrimSpace(lines[best]), class
	}
	switch res.Reason {
	case pipeline.ReasonTimeout:
		f.Class = pipeline.ClassTimeout
		f.Summary = firstNonEmpty(res.Error, f.Summary, "build timed out")
	case pipeline.ReasonPlatformMismatch:
		f.Class, f.Summary = pipeline.ClassPlatformMismatch, firstNonEmpty(res.Error, f.Summary)
	case pipeline.ReasonSmokeTest:
		if rank < rankImport || f.Class != pipeline.ClassUnknown {
			// No import error in the log: the runner's line says which test.
			f.Summary = firstNonEmpty(res.Error, f.Summary)
		}
		f.Class = pipeline.ClassSmokeTest
	case pipeline.ReasonExit:
		if res.ExitCode == 137 && (f.Class == pipeline.ClassUnknown || f.Class == pipeline.ClassOOM) {
			// SIGKILL without a timeout: the memory limit's kill.
			f.Class = pipeline.ClassOOM
			if best < 0 {
				f.Summary = res.Error + " (killed: out of memory)"
			}
		}
		if f.Class == pipeline.ClassUnknown && rank == rankImport {
			// A module the build needs is not installed.
			f.Class = pipeline.ClassMissingTool
		}
	}
	if f.Summary == "" {
		f.Summary = strings.TrimSpace(res.Error)
	}
	if f.Summary == "" {
		f.Summary = lastLine(lines, r.skip)
	}
	f.Summary = clip(f.Summary)
	return f
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// lastLine is the last line that is not blank and not a wrapper line.
func lastLine(lines []string, skip matcher) string {
	ln := new(line)
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if !skip.match(l, ln, ln.set(l)) {
			return l
		}
	}
	return ""
}

// clip keeps the summary to one line of at most MaxSummary bytes, cut at a
// rune boundary.
func clip(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) <= MaxSummary {
		return s
	}
	cut := MaxSummary
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
