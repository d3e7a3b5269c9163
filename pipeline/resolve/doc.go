// Package resolve turns requirements into one version per package by
// expanding dependencies breadth-first from the roots and backtracking when
// a choice conflicts. Backtracking is conflict-directed: a conflict carries
// the packages whose choices caused it, and the search jumps back over
// decisions that played no part instead of trying all their versions. The
// search is bounded by Options.MaxAttempts and the package count by
// Options.MaxDeps (MAX_DEPS). It reads the index through the small [Index]
// interface (implemented by adapters/pyindex) and prefetches queued
// packages in the background.
package resolve
