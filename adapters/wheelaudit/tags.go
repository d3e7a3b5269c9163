package wheelaudit

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// wheelName is a parsed wheel file name:
// {dist}-{version}(-{build})?-{python}-{abi}-{platform}.whl.
type wheelName struct {
	Dist, Version, Build string
	Python, ABI, Plat    []string // compressed tag sets split on "."
}

var tagPartRE = regexp.MustCompile(`^[A-Za-z0-9_.+]+$`)

func parseWheelName(name string) (wheelName, error) {
	base, ok := strings.CutSuffix(name, ".whl")
	if !ok {
		return wheelName{}, fmt.Errorf("wheel name %q: does not end in .whl", name)
	}
	parts := strings.Split(base, "-")
	var w wheelName
	switch len(parts) {
	case 5:
	case 6:
		w.Build = parts[2]
	default:
		return wheelName{}, fmt.Errorf("wheel name %q: want name-version[-build]-python-abi-platform.whl", name)
	}
	for _, p := range parts {
		if !tagPartRE.MatchString(p) {
			return wheelName{}, fmt.Errorf("wheel name %q: part %q is empty or has characters outside [A-Za-z0-9_.+]", name, p)
		}
	}
	n := len(parts)
	w.Dist, w.Version = parts[0], parts[1]
	w.Python = strings.Split(parts[n-3], ".")
	w.ABI = strings.Split(parts[n-2], ".")
	w.Plat = strings.Split(parts[n-1], ".")
	return w, nil
}

// triples expands the compressed tag sets into python-abi-platform triples.
func (w wheelName) triples() []string {
	var out []string
	for _, py := range w.Python {
		for _, abi := range w.ABI {
			for _, plat := range w.Plat {
				out = append(out, py+"-"+abi+"-"+plat)
			}
		}
	}
	return out
}

// withPlat is the file name with the platform tags replaced.
func (w wheelName) withPlat(plats []string) string {
	parts := []string{w.Dist, w.Version}
	if w.Build != "" {
		parts = append(parts, w.Build)
	}
	parts = append(parts, strings.Join(w.Python, "."), strings.Join(w.ABI, "."), strings.Join(plats, "."))
	return strings.Join(parts, "-") + ".whl"
}

// platform is a parsed platform tag.
type platform struct {
	Tag    string // as given
	Kind   string // "any", "linux", "manylinux", "musllinux", "other"
	Arch   string // "s390x"; "" for any
	Glibc  string // "2.17" for manylinux tags
	Legacy string // "manylinux2014" when given by its legacy name
}

var (
	manylinuxRE = regexp.MustCompile(`^manylinux_(\d+)_(\d+)_([a-z0-9_]+)$`)
	musllinuxRE = regexp.MustCompile(`^musllinux_(\d+)_(\d+)_([a-z0-9_]+)$`)
	legacyGlibc = map[string]string{"manylinux1": "2.5", "manylinux2010": "2.12", "manylinux2014": "2.17"}
)

func parsePlatform(tag string) platform {
	p := platform{Tag: tag, Kind: "other"}
	if tag == "any" {
		p.Kind = "any"
		return p
	}
	if m := manylinuxRE.FindStringSubmatch(tag); m != nil {
		major, err1 := strconv.Atoi(m[1])
		minor, err2 := strconv.Atoi(m[2])
		if err1 == nil && err2 == nil {
			p.Kind, p.Arch, p.Glibc = "manylinux", m[3], fmt.Sprintf("%d.%d", major, minor)
		}
		return p
	}
	if m := musllinuxRE.FindStringSubmatch(tag); m != nil {
		p.Kind, p.Arch = "musllinux", m[3]
		return p
	}
	for legacy, glibc := range legacyGlibc {
		if arch, ok := strings.CutPrefix(tag, legacy+"_"); ok && arch != "" {
			p.Kind, p.Arch, p.Glibc, p.Legacy = "manylinux", arch, glibc, legacy
			return p
		}
	}
	if arch, ok := strings.CutPrefix(tag, "linux_"); ok && arch != "" {
		p.Kind, p.Arch = "linux", arch
	}
	return p
}

// policyName is how an error names the target's policy: its legacy name
// when the target was given that way ("manylinux2014"), else
// "manylinux_2_17".
func (p platform) policyName() string {
	if p.Legacy != "" {
		return p.Legacy
	}
	return "manylinux_" + strings.ReplaceAll(p.Glibc, ".", "_")
}

// levelTags are the platform tags of a policy level for arch: its PEP 600
// name, then its legacy alias when the alias exists for the arch (manylinux1
// and manylinux2010 are x86 only).
func levelTags(l Level, arch string) []string {
	tags := []string{l.Name + "_" + arch}
	for _, a := range l.Aliases {
		tags = append(tags, a+"_"+arch)
	}
	return tags
}

// machineName is how an error names an architecture: "x86-64" as file(1)
// and readelf print it, other names as in platform tags.
func machineName(arch string) string {
	if arch == "x86_64" {
		return "x86-64"
	}
	return arch
}
