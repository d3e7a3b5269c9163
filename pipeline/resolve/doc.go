// Package resolve turns requirements into one version per package by
// expanding dependencies breadth-first from the roots and backtracking when
// a choice conflicts. Backtracking is conflict-directed: a conflict carries
// the decisions its demands exist because of (the packages whose
// dependencies they are, and whatever asked for an extra), the search
// jumps back over decisions that played no part, and each exhausted
// package's conflict is learned as a nogood that later branches do not
// explore again. A project no index has fails only the branches that need
// it. Pre-releases and yanked releases that a demand met after a package
// was decided names become candidates of that package when the search
// comes back to it, so the order of the requirements does not change the
// answer. The search is bounded by Options.MaxAttempts
// (RESOLVER_MAX_ATTEMPTS) and the package count by Options.MaxDeps
// (MAX_DEPS). It reads the index through the small [Index] interface
// (implemented by adapters/pyindex) and prefetches queued packages in the
// background.
package resolve
