package pep508

import (
	"maps"
	"regexp"
	"strings"
)

// Env holds the values of marker variables by their PEP 508 names
// ("python_version", "sys_platform", "extra", ...).
type Env map[string]string

// markerVariables are the PEP 508 names; legacy dotted spellings map to them.
var markerVariables = map[string]string{
	"python_version":                 "python_version",
	"python_full_version":            "python_full_version",
	"os_name":                        "os_name",
	"sys_platform":                   "sys_platform",
	"platform_release":               "platform_release",
	"platform_system":                "platform_system",
	"platform_version":               "platform_version",
	"platform_machine":               "platform_machine",
	"platform_python_implementation": "platform_python_implementation",
	"implementation_name":            "implementation_name",
	"implementation_version":         "implementation_version",
	"extra":                          "extra",
	"os.name":                        "os_name",
	"sys.platform":                   "sys_platform",
	"platform.version":               "platform_version",
	"platform.machine":               "platform_machine",
	"platform.python_implementation": "platform_python_implementation",
	"python_implementation":          "platform_python_implementation",
}

// WithExtra returns a copy of env with "extra" set, for evaluating the
// markers of a dependency pulled in through that extra.
func (env Env) WithExtra(extra string) Env {
	out := maps.Clone(env)
	if out == nil {
		out = Env{}
	}
	out["extra"] = extra
	return out
}

var archRE = regexp.MustCompile(`^(?:manylinux_\d+_\d+|musllinux_\d+_\d+|manylinux\d+|linux)_(.+)$`)

// ArchOf returns the machine architecture a Linux platform tag names
// ("manylinux2014_s390x" → "s390x", "musllinux_1_2_x86_64" → "x86_64"), or
// "" for tags such as "any".
func ArchOf(platformTag string) string {
	m := archRE.FindStringSubmatch(platformTag)
	if m == nil {
		return ""
	}
	return m[1]
}

// TargetEnv is the marker environment of CPython pythonVersion ("3.11" or
// "3.11.4") on Linux on the architecture of platformTag. A two-part version
// gets ".0" as its python_full_version.
func TargetEnv(pythonVersion, platformTag string) Env {
	parts := strings.Split(strings.TrimSpace(pythonVersion), ".")
	short := strings.Join(parts[:min(2, len(parts))], ".")
	full := strings.Join(parts, ".")
	if len(parts) == 2 {
		full += ".0"
	}
	return Env{
		"python_version":                 short,
		"python_full_version":            full,
		"os_name":                        "posix",
		"sys_platform":                   "linux",
		"platform_system":                "Linux",
		"platform_release":               "",
		"platform_version":               "",
		"platform_machine":               ArchOf(platformTag),
		"platform_python_implementation": "CPython",
		"implementation_name":            "cpython",
		"implementation_version":         full,
		"extra":                          "",
	}
}
