package planner

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/refinery/refinery-worker/adapters/pyindex"
)

// Target is the interpreter and platform wheels must suit.
type Target struct {
	// Major and Minor of CPython, e.g. 3 and 11.
	Major, Minor int
	// PlatformTag as configured, e.g. "manylinux2014_s390x".
	PlatformTag string

	family string // "manylinux", "musllinux" or "" (exact tag only)
	glibc  [2]int // libc version the target guarantees
	arch   string
}

// legacyManylinux maps the PEP 513/571/599 names to their PEP 600 glibc versions.
var legacyManylinux = map[string][2]int{"manylinux1": {2, 5}, "manylinux2010": {2, 12}, "manylinux2014": {2, 17}}

var (
	pep600RE  = regexp.MustCompile(`^(manylinux|musllinux)_(\d+)_(\d+)_(.+)$`)
	legacyRE  = regexp.MustCompile(`^(manylinux1|manylinux2010|manylinux2014)_(.+)$`)
	pyVerRE   = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.\d+)?$`)
	cpythonRE = regexp.MustCompile(`^cp(\d)(\d+)$`)
	pythonRE  = regexp.MustCompile(`^py(\d)(\d*)$`)
)

// NewTarget reads PYTHON_VERSION ("3.11") and PLATFORM_TAG.
func NewTarget(pythonVersion, platformTag string) (Target, error) {
	m := pyVerRE.FindStringSubmatch(strings.TrimSpace(pythonVersion))
	if m == nil {
		return Target{}, fmt.Errorf("python version %q: want MAJOR.MINOR", pythonVersion)
	}
	t := Target{PlatformTag: platformTag}
	t.Major, _ = strconv.Atoi(m[1])
	t.Minor, _ = strconv.Atoi(m[2])
	if platformTag == "" || strings.ContainsAny(platformTag, ". -") {
		return Target{}, fmt.Errorf("platform tag %q: want one tag such as manylinux2014_s390x", platformTag)
	}
	t.family, t.glibc, t.arch = parsePlatform(platformTag)
	return t, nil
}

// parsePlatform splits manylinux/musllinux tags into family, libc version
// and architecture; other tags yield an empty family.
func parsePlatform(tag string) (family string, libc [2]int, arch string) {
	if m := legacyRE.FindStringSubmatch(tag); m != nil {
		return "manylinux", legacyManylinux[m[1]], m[2]
	}
	if m := pep600RE.FindStringSubmatch(tag); m != nil {
		major, err1 := strconv.Atoi(m[2])
		minor, err2 := strconv.Atoi(m[3])
		if err1 == nil && err2 == nil {
			return m[1], [2]int{major, minor}, m[4]
		}
	}
	return "", [2]int{}, ""
}

// PythonTag is the CPython tag of the target, e.g. "cp311".
func (t Target) PythonTag() string { return fmt.Sprintf("cp%d%d", t.Major, t.Minor) }

// PythonVersion is "MAJOR.MINOR".
func (t Target) PythonVersion() string { return fmt.Sprintf("%d.%d", t.Major, t.Minor) }

// platformOK reports whether a wheel platform tag runs on the target:
// "any", the target tag itself, or the same family and architecture with
// a libc no newer than the target's (legacy manylinux aliases included).
func (t Target) platformOK(plat string) bool {
	if plat == "any" || plat == t.PlatformTag {
		return true
	}
	if t.family == "" {
		return false
	}
	family, libc, arch := parsePlatform(plat)
	if family != t.family || arch != t.arch {
		return false
	}
	return libc[0] < t.glibc[0] || libc[0] == t.glibc[0] && libc[1] <= t.glibc[1]
}

// interpreterScore rates a python/abi pair for the target: 0 when it does
// not run there, higher for more specific builds.
func (t Target) interpreterScore(py, abi string) int {
	if m := cpythonRE.FindStringSubmatch(py); m != nil {
		major, _ := strconv.Atoi(m[1])
		minor, _ := strconv.Atoi(m[2])
		switch {
		case major != t.Major:
			return 0
		case minor == t.Minor && abi == py:
			return 4
		case minor <= t.Minor && minor >= 2 && abi == "abi3":
			return 3
		case minor == t.Minor && abi == "none":
			return 2
		}
		return 0
	}
	if m := pythonRE.FindStringSubmatch(py); m != nil && abi == "none" {
		major, _ := strconv.Atoi(m[1])
		if major != t.Major {
			return 0
		}
		if m[2] == "" {
			return 1
		}
		if minor, err := strconv.Atoi(m[2]); err == nil && minor <= t.Minor {
			return 1
		}
	}
	return 0
}

// match is the best expanded tag of a wheel for the target. score ranks
// the interpreter/ABI (then platform-specific over "any"); platRank breaks
// ties between platform spellings: the target's own tag first, then the
// newest libc.
type match struct {
	python, platform string
	score, platRank  int
}

func (m match) better(o match) bool {
	if m.score != o.score {
		return m.score > o.score
	}
	return m.platRank > o.platRank
}

func (t Target) platformRank(plat string) int {
	if plat == t.PlatformTag {
		return 1 << 30
	}
	_, libc, _ := parsePlatform(plat)
	return libc[0]*1000 + libc[1]
}

// bestTag expands a wheel's compressed tag sets and returns its best
// (python, platform) for the target; ok is false when none runs there.
func (t Target) bestTag(tags pyindex.WheelTags) (match, bool) {
	var best match
	for _, py := range strings.Split(tags.Python, ".") {
		for _, abi := range strings.Split(tags.ABI, ".") {
			s := t.interpreterScore(py, abi)
			if s == 0 {
				continue
			}
			for _, plat := range strings.Split(tags.Platform, ".") {
				if !t.platformOK(plat) {
					continue
				}
				score := s * 2
				if plat != "any" {
					score++
				}
				if m := (match{python: py, platform: plat, score: score, platRank: t.platformRank(plat)}); m.better(best) {
					best = m
				}
			}
		}
	}
	return best, best.score > 0
}
