package resolve

import (
	"maps"
	"slices"

	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// demand is a Demand with its parsed specifiers and the package (by
// normalised name) it came from, "" for requirements and constraints.
type demand struct {
	Demand
	spec pep440.Specifiers
	from string
}

// state is one partial resolution. clone copies what a decision changes;
// slices are never appended to in place after a clone.
type state struct {
	chosen  map[string]pep440.Version
	demands map[string][]demand
	extras  map[string][]string
	depth   map[string]int
	parents map[string][]string
	queue   []string
	order   []string
}

func newState() *state {
	return &state{
		chosen:  map[string]pep440.Version{},
		demands: map[string][]demand{},
		extras:  map[string][]string{},
		depth:   map[string]int{},
		parents: map[string][]string{},
	}
}

func (s *state) clone() *state {
	return &state{
		chosen:  maps.Clone(s.chosen),
		demands: maps.Clone(s.demands),
		extras:  maps.Clone(s.extras),
		depth:   maps.Clone(s.depth),
		parents: maps.Clone(s.parents),
		queue:   slices.Clip(s.queue),
		order:   slices.Clip(s.order),
	}
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

// culprits returns name and, transitively, every package whose choice put
// a demand on it: the decisions that a conflict on name depends on.
func (s *state) culprits(name string) map[string]bool {
	out := map[string]bool{}
	stack := []string{name}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if out[n] {
			continue
		}
		out[n] = true
		for _, d := range s.demands[n] {
			if d.from != "" && !out[d.from] {
				stack = append(stack, d.from)
			}
		}
	}
	return out
}
