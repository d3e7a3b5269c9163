package resolve

import (
	"context"

	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// Index is what the resolver needs from a package index. The index is
// expected to have dropped files whose requires-python excludes the target
// already (adapters/pyindex does). It must be safe for concurrent use: the
// resolver prefetches queued packages in the background, and profits when
// the index memoises its answers.
type Index interface {
	// Releases lists the versions of a project, in any order. An unknown
	// project is an error wrapping ErrNotFound.
	Releases(ctx context.Context, name string) ([]Release, error)
	// Dependencies returns the Requires-Dist of one release.
	Dependencies(ctx context.Context, name string, version pep440.Version) (Dependencies, error)
}

// Release is one version of a project on the index.
type Release struct {
	Version pep440.Version
	// Yanked is set when every file of the release is yanked (PEP 592): it
	// is chosen only when a "==" or "===" clause pins it.
	Yanked bool
}

// Dependencies are the declared requirements of a release.
type Dependencies struct {
	Requires []pep508.Requirement
	// Known is false when no metadata source declared them (an sdist with
	// dynamic or pre-2.2 metadata): Requires is then empty, and the
	// resolution records the package as having unknown dependencies.
	Known bool
}
