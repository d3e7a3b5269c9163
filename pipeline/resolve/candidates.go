package resolve

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/refinery/refinery-worker/pipeline/pep440"
)

// candidates lists the versions of name that meet its demands, best first:
// the versions the demands admit (pre-releases and yanked releases by the
// usual rules), then those that a later demand was seen to need
// (ru.admitted), which checkConditional confirms once all demands are in.
func (ru *run) candidates(ctx context.Context, st *state, name string) ([]pep440.Version, error) {
	releases, err := ru.releasesOf(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil, ru.conflict(&ConflictError{Package: name, Demands: st.publicDemands(name), NotFound: true,
			cause: err, culprits: st.bringer(name)})
	}
	if err != nil {
		return nil, err
	}
	if v, ok := ru.opts.Overrides[name]; ok {
		i := slices.IndexFunc(releases, func(r Release) bool { return r.Version.Equal(v) })
		if i < 0 {
			return nil, &abortError{fmt.Errorf("override %s==%s: no such version on the index", name, v)}
		}
		// The index's spelling of the version ("1.0" for an override "1.0.0").
		return []pep440.Version{releases[i].Version}, nil
	}
	specs := st.specifiers(name)
	out := ru.admissible(releases, specs)
	if pref, ok := ru.opts.Preferred[name]; ok && ru.opts.Strategy == Pinned {
		if i := slices.IndexFunc(out, pref.Equal); i > 0 {
			out = append([]pep440.Version{out[i]}, slices.Delete(slices.Clone(out), i, i+1)...)
		}
	}
	var extra []pep440.Version
	for _, v := range ru.admitted[name] {
		if specs.Contains(v, true) && !slices.ContainsFunc(out, v.Equal) {
			extra = append(extra, v)
		}
	}
	slices.SortFunc(extra, func(a, b pep440.Version) int { return pep440.Compare(b, a) })
	out = append(out, extra...)
	if len(out) == 0 {
		return nil, ru.conflict(&ConflictError{Package: name, Demands: st.publicDemands(name), Candidates: len(releases),
			culprits: st.blameEmpty(name, releases)})
	}
	return out, nil
}

// admissible returns the releases specs admit, newest first: yanked ones
// only when pinned, pre-releases by the specifiers' pre-release rule.
func (ru *run) admissible(releases []Release, specs pep440.Specifiers) []pep440.Version {
	pins := pinnedBy(specs)
	var usable []pep440.Version
	for _, r := range releases {
		if r.Yanked && !slices.ContainsFunc(pins, func(sp pep440.Specifier) bool { return sp.Matches(r.Version) }) {
			continue
		}
		usable = append(usable, r.Version)
	}
	slices.SortFunc(usable, func(a, b pep440.Version) int { return pep440.Compare(b, a) })
	return specs.Filter(usable, ru.opts.AllowPre)
}

// admit notes, when a demand rules out the version chosen for name, the
// versions that demand together with the others would admit but the
// choice did not consider (a pre-release it names, a yanked release it
// pins): the candidates of name follow from all its requirements, not
// only from those seen when it was decided.
func (ru *run) admit(st *state, name string, releases []Release) {
	for _, v := range ru.admissible(releases, st.specifiers(name)) {
		if v.IsPrerelease() || isYanked(releases, v) {
			if !slices.ContainsFunc(ru.admitted[name], v.Equal) {
				ru.admitted[name] = append(ru.admitted[name], v)
			}
		}
	}
}

func isYanked(releases []Release, v pep440.Version) bool {
	return slices.ContainsFunc(releases, func(r Release) bool { return r.Yanked && r.Version.Equal(v) })
}

// checkConditional confirms, once every demand is known, that each
// version taken from ru.admitted is admissible after all. When one is not,
// the whole assignment is the nogood (rare: it takes a demand that
// admitted the version in one branch and is absent in this one).
func (ru *run) checkConditional(st *state) error {
	for name, v := range st.chosen {
		if !slices.ContainsFunc(ru.admitted[name], v.Equal) {
			continue
		}
		if _, overridden := ru.opts.Overrides[name]; overridden {
			continue
		}
		if slices.ContainsFunc(ru.admissible(ru.releases[name], st.specifiers(name)), v.Equal) {
			continue
		}
		all := map[string]bool{}
		for n := range st.chosen {
			all[n] = true
		}
		return ru.conflict(&ConflictError{Package: name, Demands: st.publicDemands(name), Chosen: v.String(),
			Reason: "no requirement admits this pre-release or yanked version", culprits: all})
	}
	return nil
}

// pinnedBy returns the "==" (non-wildcard) and "===" clauses, which may
// select a yanked release (PEP 592).
func pinnedBy(specs pep440.Specifiers) []pep440.Specifier {
	var out []pep440.Specifier
	for _, sp := range specs {
		if sp.Op == pep440.OpArbitrary || sp.Op == pep440.OpEqual && !sp.Wildcard {
			out = append(out, sp)
		}
	}
	return out
}
