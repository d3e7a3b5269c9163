package resolve

import (
	"maps"
	"slices"

	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// demand is a Demand with its parsed specifiers and the decisions (by
// normalised package name) it exists because of: the package whose
// dependency it is and, for a dependency pulled in by an extra, whatever
// asked for that extra. Requirements and constraints have none.
type demand struct {
	Demand
	spec pep440.Specifiers
	why  []string
	// extras is set when the demand asks for extras of the package.
	extras bool
	// constraint is set for a "-c" constraint, which bounds a package
	// without bringing it in.
	constraint bool
	// depth is the package's depth seen through this demand.
	depth int
}

// state is one partial resolution. clone copies what a decision changes;
// slices are never appended to in place after a clone.
type state struct {
	chosen  map[string]*pep440.Version // pointers: cheaper to clone and scan
	demands map[string][]demand
	extras  map[string][]string
	queue   []string
	order   []string
}

func newState() *state {
	return &state{
		chosen:  map[string]*pep440.Version{},
		demands: map[string][]demand{},
		extras:  map[string][]string{},
	}
}

func (s *state) clone() *state {
	return &state{
		chosen:  maps.Clone(s.chosen),
		demands: maps.Clone(s.demands),
		extras:  maps.Clone(s.extras),
		queue:   slices.Clip(s.queue),
		order:   slices.Clip(s.order),
	}
}

// depthOf is name's depth where it was first required (0 for roots).
func (s *state) depthOf(name string) int {
	if ds := s.demands[name]; len(ds) > 0 {
		return ds[0].depth
	}
	return 0
}

// parentsOf names who required name, in order, once each ("requirements"
// for roots).
func (s *state) parentsOf(name string) []string {
	var out []string
	for _, d := range s.demands[name] {
		if !d.constraint && !slices.Contains(out, d.By) {
			out = append(out, d.By)
		}
	}
	return out
}

// specifiers returns every specifier demanded of name.
func (s *state) specifiers(name string) pep440.Specifiers {
	var out pep440.Specifiers
	for _, d := range s.demands[name] {
		out = append(out, d.spec...)
	}
	return out
}

func (s *state) publicDemands(name string) []Demand {
	out := make([]Demand, len(s.demands[name]))
	for i, d := range s.demands[name] {
		out[i] = d.Demand
	}
	return out
}

// newExtras records extras of name and returns those not seen before.
func (s *state) newExtras(name string, extras []string) []string {
	var added []string
	for _, e := range extras {
		if !slices.Contains(s.extras[name], e) && !slices.Contains(added, e) {
			added = append(added, e)
		}
	}
	if len(added) > 0 {
		s.extras[name] = append(slices.Clip(s.extras[name]), added...)
	}
	return added
}

// applies reports whether a dependency's marker holds for the target with
// no extra or with one of extras.
func applies(r pep508.Requirement, env pep508.Env, extras []string) (bool, error) {
	if r.Marker == nil {
		return true, nil
	}
	for _, e := range append([]string{""}, extras...) {
		ok, err := r.Marker.Evaluate(env.WithExtra(e))
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// appliesOnlyVia reports whether a dependency applies through one of
// extras but not without them (used when extras are added late).
func appliesOnlyVia(r pep508.Requirement, env pep508.Env, extras []string) (bool, error) {
	if r.Marker == nil {
		return false, nil
	}
	base, err := r.Marker.Evaluate(env.WithExtra(""))
	if err != nil || base {
		return false, err
	}
	return applies(r, env, extras)
}

// extraWhy returns the decisions a dependency of name that applies only
// through its extras exists because of: name itself and whatever asked
// for its extras.
func (s *state) extraWhy(name string) []string {
	out := []string{name}
	for _, d := range s.demands[name] {
		if !d.extras {
			continue
		}
		for _, w := range d.why {
			if !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	return out
}

// bringer returns the decisions behind one demand that brings name into
// the resolution, preferring a requirement (which needs none).
func (s *state) bringer(name string) map[string]bool {
	out := map[string]bool{}
	best := -1
	for i, d := range s.demands[name] {
		if d.constraint {
			continue
		}
		if best < 0 || len(d.why) < len(s.demands[name][best].why) {
			best = i
		}
	}
	if best >= 0 {
		for _, w := range s.demands[name][best].why {
			out[w] = true
		}
	}
	return out
}

// blameEmpty returns the decisions that leave name without a candidate:
// a single demand no release meets, else every demand that restricts the
// versions, together with a demand that brings name in.
func (s *state) blameEmpty(name string, releases []Release) map[string]bool {
	for _, d := range s.demands[name] {
		if len(d.spec) == 0 || slices.ContainsFunc(releases, func(r Release) bool { return d.spec.Contains(r.Version, true) }) {
			continue
		}
		out := map[string]bool{}
		if d.constraint {
			out = s.bringer(name)
		}
		for _, w := range d.why {
			out[w] = true
		}
		return out
	}
	return s.blameCandidates(name)
}

// blameCandidates returns the decisions that decided which versions of
// name were candidates: those behind every demand with specifiers, and
// behind a demand that brings name in.
func (s *state) blameCandidates(name string) map[string]bool {
	out := s.bringer(name)
	for _, d := range s.demands[name] {
		if len(d.spec) == 0 {
			continue
		}
		for _, w := range d.why {
			out[w] = true
		}
	}
	return out
}
