package pyindex

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
	"github.com/refinery/refinery-worker/pipeline/resolve"
)

var _ resolve.Index = (*Client)(nil)

// Releases implements resolve.Index: the project's versions, newest first,
// with Yanked set when every file of a version is yanked.
func (c *Client) Releases(ctx context.Context, name string) ([]resolve.Release, error) {
	p, err := c.Project(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []resolve.Release
	for _, v := range p.Versions() {
		yanked := true
		for _, f := range p.FilesOf(v) {
			yanked = yanked && f.Yanked
		}
		out = append(out, resolve.Release{Version: v, Yanked: yanked})
	}
	return out, nil
}

// Dependencies implements resolve.Index. Files are tried in order of
// cheapness: PEP 658 metadata, wheels, sdists; non-yanked before yanked.
func (c *Client) Dependencies(ctx context.Context, name string, version pep440.Version) (resolve.Dependencies, error) {
	p, err := c.Project(ctx, name)
	if err != nil {
		return resolve.Dependencies{}, err
	}
	files := p.FilesOf(version)
	if len(files) == 0 {
		return resolve.Dependencies{}, fmt.Errorf("project %s has no files for %s", p.Name, version)
	}
	slices.SortStableFunc(files, func(a, b File) int { return cmp.Compare(fileCost(a), fileCost(b)) })
	var lastErr error
	for _, f := range files {
		m, err := c.Metadata(ctx, f)
		if err != nil && ctx.Err() != nil {
			// Cancelled (a prefetch the resolver no longer needs): not a
			// problem with the file, so no warning.
			return resolve.Dependencies{}, fmt.Errorf("dependencies of %s %s: %w", p.Name, version, ctx.Err())
		}
		if err != nil {
			c.log.WarnContext(ctx, "metadata unavailable from file", "file", f.Filename, "err", err)
			lastErr = err
			continue
		}
		if !m.Known {
			continue
		}
		if err := checkIdentity(m, p.Name, version); err != nil {
			return resolve.Dependencies{}, fmt.Errorf("%s: %w", f.Filename, err)
		}
		if err := c.checkRequiresPython(m); err != nil {
			return resolve.Dependencies{}, fmt.Errorf("%s %s: %w", p.Name, version, err)
		}
		return resolve.Dependencies{Requires: m.RequiresDist, Known: true}, nil
	}
	if lastErr != nil {
		return resolve.Dependencies{}, fmt.Errorf("dependencies of %s %s: %w", p.Name, version, lastErr)
	}
	c.log.InfoContext(ctx, "dependencies unknown", "project", p.Name, "version", version.String())
	return resolve.Dependencies{Known: false}, nil
}

func fileCost(f File) int {
	cost := 0
	switch {
	case f.MetadataAvailable:
	case f.Kind == Wheel:
		cost = 1
	default:
		cost = 2
	}
	if f.Yanked {
		cost += 10
	}
	return cost
}

// checkRequiresPython applies the metadata's Requires-Python, which an
// index page may not have shown.
func (c *Client) checkRequiresPython(m *Metadata) error {
	if c.python == nil || m.RequiresPython == "" {
		return nil
	}
	spec, err := pep440.ParseSpecifiers(m.RequiresPython)
	if err != nil {
		// An unreadable Requires-Python excludes nothing, as with pip.
		c.log.Debug("ignoring bad Requires-Python in metadata", "project", m.Name, "requires_python", m.RequiresPython)
		return nil
	}
	if spec.Contains(*c.python, true) {
		return nil
	}
	return fmt.Errorf("requires-python %s excludes Python %s: %w", m.RequiresPython, c.python, resolve.ErrUnusable)
}

// checkIdentity refuses metadata whose Name or Version is not the
// release's (pip refuses such a file too): the release is skipped.
func checkIdentity(m *Metadata, name string, version pep440.Version) error {
	if m.Name != "" && pep508.NormalizeName(m.Name) != name {
		return fmt.Errorf("metadata names project %q, not %s: %w", m.Name, name, resolve.ErrUnusable)
	}
	if m.Version != "" {
		v, err := pep440.Parse(m.Version)
		if err != nil || !v.Equal(version) {
			return fmt.Errorf("metadata gives version %q, not %s: %w", m.Version, version, resolve.ErrUnusable)
		}
	}
	return nil
}
