// Package resolve turns requirements into one version per package by
// expanding dependencies breadth-first from the roots and backtracking when
// a choice conflicts. It reads the index through the small [Index]
// interface (implemented by adapters/pyindex).
package resolve
