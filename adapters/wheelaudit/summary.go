package wheelaudit

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// summarize fills the report's ELF-derived fields.
func (r *Report) summarize(elfs []memberELF) {
	bundled := map[string]bool{}
	needed := map[string]bool{}
	special := map[string]bool{}
	for _, m := range elfs {
		if r.Arch == "" {
			r.Arch = m.info.Arch
		} else if m.info.Arch != r.Arch && r.mixed == "" {
			r.mixed = fmt.Sprintf("%s is %s, %s is %s", r.ELFFiles[0], machineName(r.Arch), m.name, machineName(m.info.Arch))
		}
		bundled[path.Base(m.name)] = true
		if m.info.Soname != "" {
			bundled[m.info.Soname] = true
		}
		for _, n := range m.info.Needed {
			needed[n] = true
		}
		for _, v := range m.info.Versions {
			fam, ver, numeric := splitVersion(v)
			if !trackedFamily(fam) {
				continue
			}
			if !numeric {
				special[v] = true
				continue
			}
			if cur, ok := r.SymbolVersions[fam]; !ok || compareVersions(ver, cur) > 0 {
				r.SymbolVersions[fam] = ver
			}
		}
	}
	r.GlibcLevel = r.SymbolVersions["GLIBC"]
	r.Needed = keys(needed)
	r.SpecialVersions = keys(special)
	r.Bundled = keys(bundled)
	pureTag := true
	for _, p := range r.name.Plat {
		if p != "any" {
			pureTag = false
		}
	}
	r.Pure = len(elfs) == 0 && pureTag
	if r.Pure {
		r.SatisfiedTags = []string{"any"}
		return
	}
	if r.Arch == "" { // a platform tag but no ELF file: trust the tag's architecture
		for _, p := range r.name.Plat {
			if a := parsePlatform(p).Arch; a != "" {
				r.Arch = a
				break
			}
		}
	}
	r.External = r.unbundled(r.newestLevel())
	for i := len(r.policy.Levels) - 1; i >= 0; i-- {
		l := r.policy.Levels[i]
		if len(r.levelProblems(l, platform{Glibc: l.Glibc, Arch: r.Arch}, l.Name)) == 0 {
			r.SatisfiedTags = append(r.SatisfiedTags, levelTags(l, r.Arch)...)
		}
	}
}

// newestLevel is the newest policy level covering the report's
// architecture; its library list is the widest.
func (r *Report) newestLevel() Level {
	lv, _ := r.policy.levelFor("999.0", r.Arch)
	return lv
}

// unbundled lists the needed libraries that are neither in the wheel, nor
// the dynamic loader, nor allowed by level.
func (r *Report) unbundled(level Level) []string {
	var out []string
	for _, n := range r.Needed {
		if r.bundles(n) || r.policy.isLoader(r.Arch, n) || level.allows(n) {
			continue
		}
		out = append(out, n)
	}
	return out
}

func (r *Report) bundles(lib string) bool {
	i := sort.SearchStrings(r.Bundled, lib)
	return i < len(r.Bundled) && r.Bundled[i] == lib
}

// levelProblems lists why the wheel's ELF files do not fit level, naming
// the policy as policyName ("manylinux2014" or "manylinux_2_17"). target
// carries the glibc level asked for, which may be above level's.
func (r *Report) levelProblems(level Level, target platform, policyName string) []string {
	maxes, ok := level.MaxVersions[r.Arch]
	if !ok {
		return []string{fmt.Sprintf("no %s policy for %s", policyName, r.Arch)}
	}
	var probs []string
	if r.mixed != "" {
		probs = append(probs, "ELF files for different machines: "+r.mixed)
	}
	if r.GlibcLevel != "" && compareVersions(r.GlibcLevel, target.Glibc) > 0 {
		probs = append(probs, fmt.Sprintf("needs GLIBC_%s, %s allows %s", r.GlibcLevel, policyName, target.Glibc))
	}
	for _, fam := range families[1:] {
		have, max := r.SymbolVersions[fam], maxes[fam]
		if have != "" && max != "" && compareVersions(have, max) > 0 {
			probs = append(probs, fmt.Sprintf("needs %s_%s, %s allows %s", fam, have, policyName, max))
		}
	}
	for _, v := range r.SpecialVersions {
		if !level.allowsSpecial(v) {
			probs = append(probs, fmt.Sprintf("needs %s, not allowed by %s", v, policyName))
		}
	}
	for _, lib := range r.unbundled(level) {
		probs = append(probs, fmt.Sprintf("links %s, not allowed by %s", lib, policyName))
	}
	return probs
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedUnique(in []string) []string {
	m := map[string]bool{}
	for _, s := range in {
		m[s] = true
	}
	return keys(m)
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "none"
	}
	return s
}
