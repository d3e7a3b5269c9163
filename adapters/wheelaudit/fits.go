package wheelaudit

import (
	"fmt"
	"strings"
)

// ReasonPlatformMismatch is Verdict.Reason when a wheel does not fit.
const ReasonPlatformMismatch = "platform_mismatch"

// Verdict says whether a wheel fits a target platform tag.
type Verdict struct {
	OK          bool     // the wheel fits the target as it is, or after Retag
	Reason      string   // "" or "platform_mismatch"
	Error       string   // one line: "machine x86-64, target s390x"; "needs GLIBC_2.34, manylinux2014 allows 2.17"; "links libxml2.so.2, not allowed by manylinux_2_36"
	RetagTo     []string // when OK and the file's platform tag is linux_<arch>: the manylinux platform tags to write
	NeedsRepair []string // libraries that would have to be grafted (auditwheel repair) for the target
	// Repairable is set when NeedsRepair is all that stands in the way, so
	// `auditwheel repair` (grafting the libraries) would make the wheel fit.
	Repairable bool
}

// Fits says whether the audited wheel installs on target, a platform tag
// such as "manylinux2014_s390x", "manylinux_2_36_s390x", "linux_s390x" or
// "any" (pure wheels only). A pure wheel fits every target. A platform wheel
// fits a manylinux target when its machine is the target's, every symbol
// version it needs is within the target's policy, and every library it links
// is bundled or allowed; a linux_<arch> target only asks for the machine.
//
// Fits records the reasons in r.Problems (so it must not run concurrently on
// one Report); Verdict.Error joins them with "; ". When the wheel is tagged
// linux_<arch> and fits a manylinux target, RetagTo holds the tags of the
// oldest policy it satisfies (name and legacy alias, as auditwheel repair
// writes them), which install on the target too.
func (r *Report) Fits(target string) Verdict {
	r.Problems = r.problems(target)
	if len(r.Problems) > 0 {
		v := Verdict{Reason: ReasonPlatformMismatch, Error: strings.Join(r.Problems, "; ")}
		if tp := parsePlatform(target); tp.Kind == "manylinux" && r.Arch == tp.Arch && r.mixed == "" {
			if lv, ok := r.policy.levelFor(tp.Glibc, tp.Arch); ok {
				v.NeedsRepair = r.unbundled(lv)
				v.Repairable = onlyLinkProblems(r.Problems, v.NeedsRepair, tp.policyName())
			}
		}
		return v
	}
	v := Verdict{OK: true}
	if tp := parsePlatform(target); !r.Pure && tp.Kind == "manylinux" && r.allPlats("linux") {
		v.RetagTo = r.oldestSatisfied(tp)
	}
	return v
}

func (r *Report) problems(target string) []string {
	if r.Pure {
		return nil
	}
	tp := parsePlatform(target)
	switch tp.Kind {
	case "any":
		return []string{fmt.Sprintf("platform wheel %s, target any (pure wheels only)", strings.Join(r.name.Plat, "."))}
	case "manylinux", "linux":
	default:
		return []string{fmt.Sprintf("target %s: not a supported platform tag (want manylinux_X_Y_<arch>, manylinux1/2010/2014_<arch>, linux_<arch> or any)", target)}
	}
	if r.Arch != tp.Arch {
		return []string{fmt.Sprintf("machine %s, target %s", machineName(r.Arch), machineName(tp.Arch))}
	}
	if p := r.tagProblem(tp); p != "" {
		return []string{p}
	}
	if tp.Kind == "linux" {
		if r.mixed != "" {
			return []string{"ELF files for different machines: " + r.mixed}
		}
		return nil
	}
	level, ok := r.policy.levelFor(tp.Glibc, tp.Arch)
	if !ok {
		return []string{fmt.Sprintf("no manylinux policy for %s at glibc %s", tp.Arch, tp.Glibc)}
	}
	return r.levelProblems(level, tp, tp.policyName())
}

// tagProblem checks the wheel's own platform tags against the target: an
// installer on the target must accept at least one of them.
func (r *Report) tagProblem(tp platform) string {
	var reasons []string
	for _, plat := range r.name.Plat {
		p := parsePlatform(plat)
		switch {
		case p.Kind == "any":
			return "" // an any wheel with ELF files: their machine and needs decide
		case p.Arch != tp.Arch:
			reasons = append(reasons, fmt.Sprintf("tagged %s, target %s", plat, machineName(tp.Arch)))
		case p.Kind == "linux":
			return "" // retagged (or accepted as is for a linux_<arch> target)
		case p.Kind == "manylinux" && tp.Kind == "manylinux" && compareVersions(p.Glibc, tp.Glibc) > 0:
			reasons = append(reasons, fmt.Sprintf("tagged %s, %s allows %s", plat, tp.policyName(), tp.Glibc))
		case p.Kind == "manylinux":
			return ""
		default:
			reasons = append(reasons, fmt.Sprintf("tagged %s, target %s", plat, tp.Tag))
		}
	}
	if len(reasons) == 0 {
		return ""
	}
	return reasons[0]
}

func (r *Report) allPlats(kind string) bool {
	for _, p := range r.name.Plat {
		if parsePlatform(p).Kind != kind {
			return false
		}
	}
	return true
}

// oldestSatisfied returns the tags of the oldest policy level at or below
// the target that the wheel satisfies.
func (r *Report) oldestSatisfied(tp platform) []string {
	for _, l := range r.policy.Levels {
		if compareVersions(l.Glibc, tp.Glibc) > 0 {
			break
		}
		if _, ok := l.MaxVersions[r.Arch]; !ok {
			continue
		}
		if len(r.levelProblems(l, platform{Glibc: l.Glibc, Arch: r.Arch}, l.Name)) == 0 {
			return levelTags(l, r.Arch)
		}
	}
	return []string{tp.Tag}
}

// onlyLinkProblems reports whether every problem is one of the libraries
// to graft.
func onlyLinkProblems(problems, libs []string, policyName string) bool {
	if len(libs) == 0 {
		return false
	}
	link := map[string]bool{}
	for _, lib := range libs {
		link[fmt.Sprintf("links %s, not allowed by %s", lib, policyName)] = true
	}
	for _, p := range problems {
		if !link[p] {
			return false
		}
	}
	return true
}
