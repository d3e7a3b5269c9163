package wheelaudit

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
)

// policy.json holds the manylinux policies; its "about" field names where
// the facts come from.
//
//go:embed policy.json
var policyJSON []byte

// Level is one manylinux policy: a glibc level and what it allows.
type Level struct {
	Name            string                       `json:"name"`    // "manylinux_2_17"
	Aliases         []string                     `json:"aliases"` // "manylinux2014"
	Glibc           string                       `json:"glibc"`   // "2.17"
	MaxVersions     map[string]map[string]string `json:"max_versions"`
	SpecialVersions []string                     `json:"special_versions"`
	Libraries       []string                     `json:"libraries"`
}

// Policy is the parsed policy data, levels sorted oldest glibc first.
type Policy struct {
	About   string              `json:"about"`
	Loaders map[string][]string `json:"loaders"`
	Levels  []Level             `json:"levels"`
}

// loadPolicy parses the embedded data once; the result is read-only.
var loadPolicy = sync.OnceValues(func() (*Policy, error) {
	return parsePolicy(policyJSON)
})

func parsePolicy(data []byte) (*Policy, error) {
	var p Policy
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("policy.json: %w", err)
	}
	for _, l := range p.Levels {
		if parseVersion(l.Glibc) == nil {
			return nil, fmt.Errorf("policy.json: level %s: glibc %q is not a version", l.Name, l.Glibc)
		}
	}
	sort.SliceStable(p.Levels, func(i, j int) bool { return compareVersions(p.Levels[i].Glibc, p.Levels[j].Glibc) < 0 })
	return &p, nil
}

// levelFor returns the newest policy level at or below glibc that covers
// arch, for the symbol and library limits of a target such as
// manylinux_2_39 that has no entry of its own.
func (p *Policy) levelFor(glibc, arch string) (Level, bool) {
	var found Level
	ok := false
	for _, l := range p.Levels {
		if compareVersions(l.Glibc, glibc) > 0 {
			break
		}
		if _, has := l.MaxVersions[arch]; has {
			found, ok = l, true
		}
	}
	return found, ok
}

// allows reports whether the level lets a wheel link lib without bundling it.
func (l Level) allows(lib string) bool {
	for _, x := range l.Libraries {
		if x == lib {
			return true
		}
	}
	return false
}

func (l Level) allowsSpecial(v string) bool {
	for _, x := range l.SpecialVersions {
		if x == v {
			return true
		}
	}
	return false
}

func (p *Policy) isLoader(arch, lib string) bool {
	for _, x := range p.Loaders[arch] {
		if x == lib {
			return true
		}
	}
	return false
}
