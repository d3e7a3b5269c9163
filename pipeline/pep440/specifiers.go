package pep440

import (
	"fmt"
	"strings"
)

// Specifiers is a comma-separated set of clauses, all of which must hold.
// The empty set matches every version (subject to the pre-release rule).
type Specifiers []Specifier

// ParseSpecifiers parses a set such as ">=1.0, !=1.3.*, <2". An empty or
// blank string is the empty set.
func ParseSpecifiers(s string) (Specifiers, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out Specifiers
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			return nil, fmt.Errorf("%w: %q: empty clause", ErrInvalidSpecifier, s)
		}
		sp, err := ParseSpecifier(part)
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, nil
}

// String joins the clauses with ",".
func (ss Specifiers) String() string {
	parts := make([]string, len(ss))
	for i, sp := range ss {
		parts[i] = sp.String()
	}
	return strings.Join(parts, ",")
}

// AllowsPrereleases reports whether a clause names a pre-release (">=1.0b1",
// "==2.0rc1"), which admits pre-releases without further ado.
func (ss Specifiers) AllowsPrereleases() bool {
	for _, sp := range ss {
		if sp.mentionsPrerelease() {
			return true
		}
	}
	return false
}

// Contains reports whether v satisfies every clause. A pre-release matches
// only when allowPre is set or a clause names a pre-release.
func (ss Specifiers) Contains(v Version, allowPre bool) bool {
	if v.IsPrerelease() && !allowPre && !ss.AllowsPrereleases() {
		return false
	}
	for _, sp := range ss {
		if !sp.Matches(v) {
			return false
		}
	}
	return true
}

// Filter returns the candidates the set admits, in their order, applying
// the PEP's pre-release rule: pre-releases are left out unless allowPre is
// set or a clause names one, except that when nothing else matches the
// matching pre-releases are returned.
func (ss Specifiers) Filter(candidates []Version, allowPre bool) []Version {
	var out, pres []Version
	for _, v := range candidates {
		if !ss.Contains(v, true) {
			continue
		}
		if v.IsPrerelease() && !allowPre && !ss.AllowsPrereleases() {
			pres = append(pres, v)
			continue
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return pres
	}
	return out
}
