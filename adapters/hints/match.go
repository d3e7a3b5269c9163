package hints

import (
	"path"
	"slices"
	"strings"

	"github.com/refinery/refinery-worker/pipeline"
)

// Job is what a hint's applies_to is checked against.
type Job struct {
	Name          string // PEP 503 normalised
	PythonVersion string // "3.11"
	PythonTag     string // "cp311"
	PlatformTag   string // "manylinux2014_s390x"
	// BuildBackend is the sdist's build backend when known ("" = unknown,
	// which a build_backends filter does not exclude).
	BuildBackend string
}

// JobOf is the Job of a pipeline job.
func JobOf(j pipeline.Job) Job {
	return Job{Name: pipeline.NormalizeName(j.Name), PythonVersion: j.PythonVersion, PythonTag: j.PythonTag, PlatformTag: j.PlatformTag}
}

// Match returns the hints that apply to job and whose pattern matches a
// line of the end (MaxLogBytes) of the log, in catalog order. Patterns
// match within one line.
func (c *Catalog) Match(job Job, lines []string) []pipeline.HintMatch {
	if c.Len() == 0 || len(lines) == 0 {
		return nil
	}
	lines = logTail(lines)
	hits := c.ac.scan(lines)
	var out []pipeline.HintMatch
	for i := range c.entries {
		e := &c.entries[i]
		if !e.AppliesTo.fits(job) || !e.matches(lines, hits) {
			continue
		}
		out = append(out, pipeline.HintMatch{ID: e.ID, Confidence: e.Confidence})
	}
	return out
}

// matches runs the pattern on the lines that hold all its fragments (every
// line when it has none).
func (e *entry) matches(lines []string, hits [][]int32) bool {
	if len(e.frags) == 0 {
		return slices.ContainsFunc(lines, e.re.MatchString)
	}
	for _, f := range e.frags {
		if len(hits[f]) == 0 {
			return false
		}
	}
	for _, li := range hits[e.frags[0]] {
		if e.re.MatchString(lines[li]) {
			return true
		}
	}
	return false
}

// fits reports whether every non-empty filter admits job.
func (a AppliesTo) fits(job Job) bool {
	if len(a.Packages) > 0 && !slices.ContainsFunc(a.Packages, func(p string) bool { return pipeline.NormalizeName(p) == job.Name }) {
		return false
	}
	if len(a.PackagePatterns) > 0 && !slices.ContainsFunc(a.PackagePatterns, func(p string) bool {
		ok, err := path.Match(strings.ToLower(p), job.Name)
		return err == nil && ok
	}) {
		return false
	}
	if len(a.Arch) > 0 && !slices.ContainsFunc(a.Arch, func(x string) bool { return archOf(job.PlatformTag) == strings.ToLower(x) }) {
		return false
	}
	if len(a.PythonVersions) > 0 && !slices.ContainsFunc(a.PythonVersions, func(v string) bool {
		return v == job.PythonVersion || strings.HasPrefix(job.PythonVersion, v+".")
	}) {
		return false
	}
	if len(a.PythonTags) > 0 && !slices.Contains(a.PythonTags, job.PythonTag) {
		return false
	}
	if len(a.PlatformTags) > 0 && !slices.ContainsFunc(a.PlatformTags, func(p string) bool {
		ok, err := path.Match(p, job.PlatformTag)
		return p == job.PlatformTag || err == nil && ok
	}) {
		return false
	}
	if len(a.BuildBackends) > 0 && job.BuildBackend != "" && !slices.Contains(a.BuildBackends, job.BuildBackend) {
		return false
	}
	return true
}

// archOf is the machine of a platform tag (manylinux2014_s390x → s390x).
func archOf(platformTag string) string {
	for _, a := range [...]string{"x86_64", "aarch64", "ppc64le", "riscv64", "s390x", "armv7l", "ppc64", "i686", "amd64", "arm64"} {
		if strings.HasSuffix(platformTag, "_"+a) || platformTag == a {
			switch a {
			case "amd64":
				return "x86_64"
			case "arm64":
				return "aarch64"
			}
			return a
		}
	}
	return ""
}
