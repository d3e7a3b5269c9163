package resolve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// Package is one resolved package.
type Package struct {
	// Name is normalised.
	Name    string
	Version pep440.Version
	// Extras requested of it.
	Extras []string
	// Depth is 0 for requirements, 1 for their dependencies, and so on.
	Depth int
	// RequiredBy names the packages that depend on it ("requirements" for roots).
	RequiredBy []string
	// Overridden is set when PLAN_OVERRIDES_JSON chose the version.
	Overridden bool
	// DependenciesKnown is false when no metadata declared them.
	DependenciesKnown bool
}

// Resolution is the outcome: one version per package, in breadth-first
// discovery order.
type Resolution struct {
	Packages []Package
	// UnusedOverrides are overridden packages (normalised, sorted) that
	// nothing required: the override had no effect.
	UnusedOverrides []string
}

// Resolver resolves requirements against an Index.
type Resolver struct {
	index Index
	opts  Options
	log   *slog.Logger
}

// New returns a Resolver; zero options take their defaults.
func New(index Index, opts Options) *Resolver {
	if opts.Strategy == "" {
		opts.Strategy = Pinned
	}
	if opts.MaxDeps <= 0 {
		opts.MaxDeps = DefaultMaxDeps
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Resolver{index: index, opts: opts, log: log}
}

// run holds the caches and counters of one Resolve call.
type run struct {
	*Resolver
	releases  map[string][]Release
	deps      map[string]Dependencies
	attempts  int
	conflicts map[string]int
	worst     *ConflictError
	prefetch  *prefetcher
	// notFound remembers projects no index has.
	notFound map[string]error
	// admitted are versions, by package, that a demand met after the
	// package was decided showed to be wanted (see admit).
	admitted map[string][]pep440.Version
	// nogoods are learned sets of versions that cannot go together,
	// indexed by each of their members' depKey.
	nogoods map[string][]map[string]pep440.Version
}

// errAbort wraps errors that must stop the search rather than backtrack.
type abortError struct{ err error }

func (e *abortError) Error() string { return e.err.Error() }
func (e *abortError) Unwrap() error { return e.err }

// Resolve picks one version per package for roots and their dependencies.
// Roots whose markers do not hold for the target are skipped; URL roots
// are refused.
func (r *Resolver) Resolve(ctx context.Context, roots []pep508.Requirement) (*Resolution, error) {
	ru := &run{Resolver: r, releases: map[string][]Release{}, deps: map[string]Dependencies{}, conflicts: map[string]int{},
		notFound: map[string]error{}, admitted: map[string][]pep440.Version{},
		nogoods:  map[string][]map[string]pep440.Version{},
		prefetch: newPrefetcher(ctx, r.index, r.opts.Prefetch)}
	defer ru.prefetch.stop()
	st := newState()
	for _, req := range roots {
		if req.IsURL() {
			return nil, fmt.Errorf("requirement %s: direct URLs are not supported", req)
		}
		ok, err := applies(req, r.opts.Env, nil)
		if err != nil {
			return nil, fmt.Errorf("requirement %s: marker: %w", req, err)
		}
		if !ok {
			r.log.DebugContext(ctx, "requirement skipped by its marker", "requirement", req.String())
			continue
		}
		if err := ru.require(ctx, st, req, nil, "requirements", -1); err != nil {
			return nil, unwrapAbort(err)
		}
	}
	final, err := ru.solve(ctx, st)
	var conflict *ConflictError
	if errors.As(err, &conflict) && !errors.As(err, new(*abortError)) && ru.worst != nil {
		// Report the conflict met most often, not merely the last one.
		return nil, ru.worst
	}
	if err != nil {
		return nil, unwrapAbort(err)
	}
	return ru.result(final), nil
}

func unwrapAbort(err error) error {
	var ab *abortError
	if errors.As(err, &ab) {
		return ab.err
	}
	return err
}

func (ru *run) result(st *state) *Resolution {
	out := &Resolution{}
	for _, name := range st.order {
		_, overridden := ru.opts.Overrides[name]
		v := *st.chosen[name]
		out.Packages = append(out.Packages, Package{
			Name: name, Version: v, Extras: st.extras[name], Depth: st.depthOf(name),
			RequiredBy: st.parentsOf(name), Overridden: overridden,
			DependenciesKnown: ru.deps[depKey(name, v)].Known,
		})
	}
	for name := range ru.opts.Overrides {
		if _, used := st.chosen[name]; !used {
			out.UnusedOverrides = append(out.UnusedOverrides, name)
		}
	}
	slices.Sort(out.UnusedOverrides)
	return out
}

// solve decides queued packages in breadth-first order, backtracking over
// candidate versions when a choice leads to a conflict.
func (ru *run) solve(ctx context.Context, st *state) (*state, error) {
	for len(st.queue) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, &abortError{fmt.Errorf("resolve: %w", err)}
		}
		name := st.queue[0]
		st.queue = st.queue[1:]
		if _, done := st.chosen[name]; done {
			continue
		}
		return ru.decide(ctx, st, name)
	}
	if err := ru.checkConditional(st); err != nil {
		return nil, err
	}
	return st, nil
}

// choose fixes name at v and adds its dependencies' demands.
func (ru *run) choose(ctx context.Context, st *state, name string, v pep440.Version) error {
	st.chosen[name] = &v
	deps, err := ru.dependenciesOf(ctx, name, v)
	if err != nil {
		return err
	}
	by := name + " " + v.String()
	for _, dep := range deps.Requires {
		ok, err := applies(dep, ru.opts.Env, st.extras[name])
		if err != nil {
			return &abortError{fmt.Errorf("dependency %s of %s: marker: %w", dep, by, err)}
		}
		if !ok {
			continue
		}
		why := []string{name}
		if plain, _ := applies(dep, ru.opts.Env, nil); !plain {
			why = st.extraWhy(name)
		}
		if err := ru.require(ctx, st, dep, why, by, st.depthOf(name)); err != nil {
			return err
		}
	}
	return nil
}

// require adds one requirement's demand (and extras) on its package,
// queueing the package when it is new and checking a chosen version. why
// are the decisions the demand exists because of (nil for requirements).
func (ru *run) require(ctx context.Context, st *state, req pep508.Requirement, why []string, by string, parentDepth int) error {
	if req.IsURL() {
		return &abortError{fmt.Errorf("dependency %s of %s: direct URLs are not supported", req, by)}
	}
	name := req.Key()
	if _, seen := st.demands[name]; !seen {
		if len(st.order) >= ru.opts.MaxDeps {
			return &abortError{fmt.Errorf("%w: more than MAX_DEPS=%d packages (reached at %s, required by %s)", ErrTooManyDeps, ru.opts.MaxDeps, name, by)}
		}
		st.order = append(st.order, name)
		st.queue = append(st.queue, name)
		ru.prefetch.start(name)
		for _, c := range ru.opts.Constraints {
			if c.Key() != name {
				continue
			}
			if ok, err := applies(c, ru.opts.Env, nil); err != nil || !ok {
				continue
			}
			st.demands[name] = append(slices.Clip(st.demands[name]), demand{Demand: Demand{c.Specifiers.String(), "constraints"}, spec: c.Specifiers, constraint: true, depth: parentDepth + 1})
		}
	}
	d := demand{Demand: Demand{req.Specifiers.String(), by}, spec: req.Specifiers, why: why, extras: len(req.Extras) > 0, depth: parentDepth + 1}
	st.demands[name] = append(slices.Clip(st.demands[name]), d)
	added := st.newExtras(name, req.Extras)
	chosen, isChosen := st.chosen[name]
	if !isChosen {
		return nil
	}
	if _, overridden := ru.opts.Overrides[name]; !overridden && !st.specifiers(name).Contains(*chosen, true) {
		ru.admit(st, name, ru.releases[name])
		culprits := map[string]bool{name: true}
		for _, w := range why {
			culprits[w] = true
		}
		return ru.conflict(&ConflictError{Package: name, Demands: st.publicDemands(name), Chosen: chosen.String(),
			culprits: culprits})
	}
	if len(added) == 0 {
		return nil
	}
	// Extras asked of a package already chosen: add what they pull in.
	deps, err := ru.dependenciesOf(ctx, name, *chosen)
	if err != nil {
		return err
	}
	for _, dep := range deps.Requires {
		ok, err := appliesOnlyVia(dep, ru.opts.Env, added)
		if err != nil {
			return &abortError{fmt.Errorf("dependency %s of %s: marker: %w", dep, name, err)}
		}
		if ok {
			if err := ru.require(ctx, st, dep, st.extraWhy(name), name+" "+chosen.String(), st.depthOf(name)); err != nil {
				return err
			}
		}
	}
	return nil
}

func depKey(name string, v pep440.Version) string { return name + "==" + v.String() }

// releasesOf returns the releases of name; a project no index has is an
// error wrapping ErrNotFound (remembered, so it is asked once).
func (ru *run) releasesOf(ctx context.Context, name string) ([]Release, error) {
	if rs, ok := ru.releases[name]; ok {
		return rs, nil
	}
	if err, ok := ru.notFound[name]; ok {
		return nil, err
	}
	rs, err := ru.index.Releases(ctx, name)
	if errors.Is(err, ErrNotFound) {
		ru.notFound[name] = err
		return nil, err
	}
	if err != nil {
		return nil, &abortError{fmt.Errorf("releases of %s: %w", name, err)}
	}
	ru.releases[name] = rs
	return rs, nil
}

func (ru *run) dependenciesOf(ctx context.Context, name string, v pep440.Version) (Dependencies, error) {
	key := depKey(name, v)
	if d, ok := ru.deps[key]; ok {
		return d, nil
	}
	d, err := ru.index.Dependencies(ctx, name, v)
	if errors.Is(err, ErrUnusable) {
		// Only this candidate is at fault: culprits is the package alone.
		return Dependencies{}, ru.conflict(&ConflictError{Package: name, Chosen: v.String(), Reason: err.Error(),
			culprits: map[string]bool{name: true}})
	}
	if err != nil {
		return Dependencies{}, &abortError{fmt.Errorf("dependencies of %s %s: %w", name, v, err)}
	}
	if !d.Known {
		ru.log.WarnContext(ctx, "dependencies unknown: no metadata declares them; the plan marks the package",
			"package", name, "version", v.String())
	}
	ru.deps[key] = d
	return d, nil
}
