package resolve

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/refinery/refinery-worker/pipeline/pep440"
)

// decide tries the candidates of name in turn and solves the rest of the
// queue under each. Conflict-directed backjumping: a failure whose
// culprits do not include this package cannot be cured by another version
// of it, so it goes straight up; otherwise the culprits are gathered. The
// candidate list is recomputed after each failure, since a conflict may
// have shown that a pre-release or yanked version is wanted (see admit).
func (ru *run) decide(ctx context.Context, st *state, name string) (*state, error) {
	var last *ConflictError
	culprits := map[string]bool{}
	var tried []pep440.Version
	for {
		candidates, err := ru.candidates(ctx, st, name)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(candidates, func(v pep440.Version) bool {
			return !slices.ContainsFunc(tried, v.Equal)
		})
		if i < 0 {
			break
		}
		v := candidates[i]
		tried = append(tried, v)
		var next *state
		if err = ru.learned(st, name, v); err == nil {
			next = st.clone()
			err = ru.choose(ctx, next, name, v)
		}
		if err == nil {
			var res *state
			if res, err = ru.solve(ctx, next); err == nil {
				return res, nil
			}
		}
		var conflict *ConflictError
		if errors.As(err, new(*abortError)) || !errors.As(err, &conflict) {
			return nil, err
		}
		if !conflict.culprits[name] {
			return nil, conflict
		}
		last = conflict
		maps.Copy(culprits, conflict.culprits)
		ru.attempts++
		if ru.attempts > ru.opts.MaxAttempts {
			return nil, &abortError{ru.tooComplex()}
		}
	}
	// Every version failed: blame whatever limited them and brought this
	// package in, not the package itself.
	delete(culprits, name)
	maps.Copy(culprits, st.blameCandidates(name))
	delete(culprits, name)
	if ru.triedAll(st, name, tried) {
		// Only then is the nogood safe to keep: an untried pre-release or
		// yanked release could still be admitted by a demand met later.
		ru.learn(st, culprits)
	}
	exhausted := *last
	exhausted.culprits = culprits
	return nil, &exhausted
}

// triedAll reports whether every release of name that its specifiers
// allow (pre-releases and yanked ones included) was tried.
func (ru *run) triedAll(st *state, name string, tried []pep440.Version) bool {
	specs := st.specifiers(name)
	for _, r := range ru.releases[name] {
		if specs.Contains(r.Version, true) && !slices.ContainsFunc(tried, r.Version.Equal) {
			return false
		}
	}
	return true
}

// learn remembers that the current versions of culprits cannot be part
// of a resolution (a nogood), so that no later branch explores them again.
func (ru *run) learn(st *state, culprits map[string]bool) {
	if len(culprits) == 0 {
		return
	}
	ng := make(map[string]pep440.Version, len(culprits))
	for c := range culprits {
		ng[c] = *st.chosen[c]
	}
	for c, v := range ng {
		key := depKey(c, v)
		ru.nogoods[key] = append(ru.nogoods[key], ng)
	}
}

// learned returns a conflict when choosing name at v would complete a
// learned nogood.
func (ru *run) learned(st *state, name string, v pep440.Version) error {
	for _, ng := range ru.nogoods[depKey(name, v)] {
		match := true
		for c, cv := range ng {
			if c == name {
				continue
			}
			if got, ok := st.chosen[c]; !ok || !got.Equal(cv) {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		culprits := make(map[string]bool, len(ng))
		for c := range ng {
			culprits[c] = true
		}
		if ru.worst != nil {
			c := *ru.worst
			c.culprits = culprits
			return &c
		}
		return &ConflictError{Package: name, Chosen: v.String(), Reason: "excluded by an earlier conflict", culprits: culprits}
	}
	return nil
}

// tooComplex builds the give-up error, naming the packages met most often
// in conflicts.
func (ru *run) tooComplex() *TooComplexError {
	names := slices.Collect(maps.Keys(ru.conflicts))
	slices.SortFunc(names, func(a, b string) int {
		if c := ru.conflicts[b] - ru.conflicts[a]; c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	if len(names) > 5 {
		names = names[:5]
	}
	return &TooComplexError{Attempts: ru.attempts, Limit: ru.opts.MaxAttempts, Packages: names, Last: ru.worst}
}

// conflict records a conflict and returns it.
func (ru *run) conflict(c *ConflictError) error {
	ru.conflicts[c.Package]++
	if ru.worst == nil || ru.conflicts[c.Package] >= ru.conflicts[ru.worst.Package] {
		ru.worst = c
	}
	return c
}
