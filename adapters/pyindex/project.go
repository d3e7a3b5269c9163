package pyindex

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"slices"

	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
	"github.com/refinery/refinery-worker/pipeline/resolve"
)

// acceptSimple asks for PEP 691 JSON and accepts PEP 503 HTML.
const acceptSimple = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"

// File is one distribution file of a project.
type File struct {
	Filename string
	URL      *url.URL
	Kind     Kind
	Version  pep440.Version
	// Tags are set for wheels.
	Tags WheelTags
	// Hashes by algorithm name ("sha256" → hex).
	Hashes         map[string]string
	RequiresPython string
	Yanked         bool
	YankedReason   string
	// MetadataAvailable is set when the index serves URL+".metadata"
	// (PEP 658 / PEP 714); MetadataHashes are that file's hashes, if given.
	MetadataAvailable bool
	MetadataHashes    map[string]string
	// Index is the index URL the file was listed on (without credentials).
	Index string
}

// Project is the merged file list of a project over all indexes.
type Project struct {
	// Name is the normalised project name.
	Name  string
	Files []File
}

// Versions returns the project's distinct versions, newest first.
func (p *Project) Versions() []pep440.Version {
	var out []pep440.Version
	for _, f := range p.Files {
		if !slices.ContainsFunc(out, f.Version.Equal) {
			out = append(out, f.Version)
		}
	}
	slices.SortFunc(out, func(a, b pep440.Version) int { return pep440.Compare(b, a) })
	return out
}

// FilesOf returns the files of one version.
func (p *Project) FilesOf(v pep440.Version) []File {
	var out []File
	for _, f := range p.Files {
		if pep440.Compare(f.Version, v) == 0 {
			out = append(out, f)
		}
	}
	return out
}

// Project returns the files of name on all indexes, less those whose
// requires-python excludes the configured Python. A project no index has
// is an error wrapping resolve.ErrNotFound.
func (c *Client) Project(ctx context.Context, name string) (*Project, error) {
	key := pep508.NormalizeName(name)
	if !pep508.ValidName(name) {
		return nil, fmt.Errorf("project %q: invalid name", name)
	}
	return c.projects.do(ctx, key, func() (*Project, error) { return c.fetchProject(ctx, key) })
}

func (c *Client) fetchProject(ctx context.Context, key string) (*Project, error) {
	p := &Project{Name: key}
	found := false
	for _, ix := range c.indexes {
		files, err := c.indexPage(ctx, ix, key)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("project %s: %w", key, err)
		}
		found = true
		p.Files = append(p.Files, c.keepFiles(ctx, key, files)...)
	}
	if !found {
		return nil, fmt.Errorf("project %s: %w on any index", key, resolve.ErrNotFound)
	}
	return p, nil
}

// keepFiles drops files of other kinds or projects and those excluded by
// requires-python.
func (c *Client) keepFiles(ctx context.Context, key string, raw []rawFile) []File {
	var out []File
	for _, r := range raw {
		kind, v, tags, ok := parseFilename(key, r.Filename)
		if !ok {
			continue
		}
		if c.python != nil && r.RequiresPython != "" {
			spec, err := pep440.ParseSpecifiers(r.RequiresPython)
			if err != nil {
				c.log.DebugContext(ctx, "ignoring bad requires-python", "file", r.Filename, "requires_python", r.RequiresPython)
			} else if !spec.Contains(*c.python, true) {
				c.log.DebugContext(ctx, "file excluded by requires-python", "file", r.Filename, "requires_python", r.RequiresPython)
				continue
			}
		}
		out = append(out, File{
			Filename: r.Filename, URL: r.URL, Kind: kind, Version: v, Tags: tags, Hashes: r.Hashes,
			RequiresPython: r.RequiresPython, Yanked: r.Yanked, YankedReason: r.YankedReason,
			MetadataAvailable: r.Metadata, MetadataHashes: r.MetadataHashes, Index: r.Index,
		})
	}
	return out
}

// rawFile is a file entry as a page lists it.
type rawFile struct {
	Filename       string
	URL            *url.URL
	Hashes         map[string]string
	RequiresPython string
	Yanked         bool
	YankedReason   string
	Metadata       bool
	MetadataHashes map[string]string
	Index          string
}

func (c *Client) indexPage(ctx context.Context, ix index, key string) ([]rawFile, error) {
	pageURL := ix.base.JoinPath(key + "/")
	body, ctype, err := c.get(ctx, pageURL, acceptSimple, true)
	if err != nil {
		return nil, err
	}
	mt, _, _ := mime.ParseMediaType(ctype)
	var files []rawFile
	switch mt {
	case "application/vnd.pypi.simple.v1+json":
		files, err = parseJSONPage(body, pageURL)
	case "application/vnd.pypi.simple.v1+html", "text/html", "":
		files, err = parseHTMLPage(body, pageURL)
	default:
		return nil, fmt.Errorf("page %s: unexpected content type %q", pageURL.Redacted(), ctype)
	}
	if err != nil {
		return nil, fmt.Errorf("page %s: %w", pageURL.Redacted(), err)
	}
	for i := range files {
		files[i].Index = ix.base.String()
	}
	return files, nil
}
