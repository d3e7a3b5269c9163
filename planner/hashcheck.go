package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/refinery/refinery-worker/adapters/pyindex"
	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
	"github.com/refinery/refinery-worker/pipeline/resolve"
)

// checkHashMode applies pip's hash-checking mode, which any --hash turns
// on: every requirement must be pinned with == (or ===) and carry hashes.
func checkHashMode(in Input) error {
	if len(in.Hashes) == 0 {
		return nil
	}
	var problems []string
	for _, r := range in.Requirements {
		pinned := len(r.Specifiers) == 1 && (r.Specifiers[0].Op == pep440.OpArbitrary ||
			r.Specifiers[0].Op == pep440.OpEqual && !r.Specifiers[0].Wildcard)
		switch {
		case !pinned:
			problems = append(problems, fmt.Sprintf("%s is not pinned with ==", r))
		case len(in.Hashes[r.Key()]) == 0:
			problems = append(problems, fmt.Sprintf("%s has no --hash", r))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("hash-checking mode (a --hash is given): every requirement needs == and --hash: %s",
			strings.Join(problems, "; "))
	}
	return nil
}

// checkResolvedHashed refuses, in hash-checking mode, packages the
// requirements do not list with hashes (dependencies included), as pip.
func checkResolvedHashed(in Input, res *resolve.Resolution) error {
	if len(in.Hashes) == 0 {
		return nil
	}
	var missing []string
	for _, p := range res.Packages {
		if len(in.Hashes[p.Name]) == 0 {
			missing = append(missing, fmt.Sprintf("%s==%s (required by %s)", p.Name, p.Version, strings.Join(p.RequiredBy, ", ")))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("hash-checking mode: these packages need a pinned, hashed line in the requirements: %s",
			strings.Join(missing, "; "))
	}
	return nil
}

// hashedFiles keeps the files whose announced hash one of allowed names;
// nil allowed keeps every file.
func hashedFiles(files []pyindex.File, allowed []string) []pyindex.File {
	if allowed == nil {
		return files
	}
	return slices.DeleteFunc(slices.Clone(files), func(f pyindex.File) bool { return !pyindex.FileMatchesHashes(f, allowed) })
}

// hashesByName collects --hash values by normalised name.
func hashesByName(name string, hashes []string, into map[string][]string) {
	if len(hashes) == 0 {
		return
	}
	key := pep508.NormalizeName(name)
	into[key] = append(into[key], hashes...)
}
