// Package wheelindex publishes delivered wheels as a PEP 503 / PEP 691
// simple index under OUTPUT_DIR/simple and keeps it consistent when several
// workers share OUTPUT_DIR.
//
// Layout (everything a static file server can serve as is):
//
//	simple/index.html, index.json        the root page, both forms
//	simple/<project>/index.html, .json   a project's page, both forms
//	simple/<project>/<wheel>.whl         the wheel (a hard link to the build's
//	                                     file in OUTPUT_DIR, or a copy)
//	simple/<project>/<wheel>.whl.metadata  its core metadata (PEP 658)
//	simple/.lock, simple/.stats.json     the cross-process lock, counts
//
// <project> is the PEP 503 normalised name. Links are relative, so the tree
// serves the same from the worker, from a plain file server, or copied.
//
// Publishing a wheel takes the lock, renames the wheel and its metadata file
// into place, then rewrites that project's pages whole (temporary file +
// rename) from its JSON page, and the root pages only when the project is
// new. Its cost depends on the project's own files, not on the size of the
// index. Pages are written after the bytes they list, so no page ever lists a
// file that is not on disk, and a page never loses a wheel another worker
// published (each rewrite starts from the current page under the lock).
package wheelindex

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/refinery/refinery-worker/adapters/regfile"
)

// ErrConflict is wrapped when a file name is already published with other
// bytes: published files never change (pip caches and lock files trust them).
var ErrConflict = errors.New("already published with a different sha256")

const (
	lockName  = ".lock"
	statsName = ".stats.json"
	// MetadataSuffix names the core metadata file beside a wheel.
	MetadataSuffix = ".metadata"
)

// Options configure an Index.
type Options struct {
	// Dir is the index root, OUTPUT_DIR/simple. Created when missing.
	Dir string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now (upload-time of new files).
	Now func() time.Time
}

// Index is the simple index under Options.Dir. Safe for concurrent use, also
// from several processes.
type Index struct {
	dir string
	log *slog.Logger
	now func() time.Time

	published, failures atomic.Int64
}

// Open makes Dir and returns its Index.
func Open(opts Options) (*Index, error) {
	if opts.Dir == "" {
		return nil, errors.New("wheel index: dir is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("wheel index: create %s: %w", opts.Dir, err)
	}
	x := &Index{dir: opts.Dir, log: opts.Logger, now: opts.Now}
	if err := x.ensureRoot(); err != nil {
		return nil, fmt.Errorf("wheel index: %w", err)
	}
	return x, nil
}

// ensureRoot writes empty root pages when there are none, so a new index
// answers like an empty one rather than not at all.
func (x *Index) ensureRoot() error {
	if _, err := os.Stat(filepath.Join(x.dir, PageJSON)); err == nil {
		return nil
	}
	lock, err := lockFile(filepath.Join(x.dir, lockName))
	if err != nil {
		return err
	}
	defer lock.Close()
	if _, err := os.Stat(filepath.Join(x.dir, PageJSON)); err == nil {
		return nil // another worker wrote it meanwhile
	}
	r, err := x.readRoot()
	if err != nil {
		return err
	}
	return writeRoot(x.dir, r)
}

// Dir is the index root.
func (x *Index) Dir() string { return x.dir }

// Published is one wheel in the index.
type Published struct {
	Project string // normalised name
	File    File
	// Path is the wheel's path below the index root, "<project>/<file>".
	Path string
	// Existed is true when the same bytes were already published.
	Existed bool
}

// MetadataPath is the core metadata file's path below the index root.
func (p Published) MetadataPath() string { return p.Path + MetadataSuffix }

// Publish adds the wheel at src to the index. wantSHA256, when not empty, is
// the hash the build recorded; a file whose bytes differ is refused.
// Publishing the same bytes again is a no-op; another file under a published
// name is refused with ErrConflict.
func (x *Index) Publish(ctx context.Context, src, wantSHA256 string) (Published, error) {
	p, err := x.publish(ctx, src, wantSHA256)
	if err != nil {
		x.failures.Add(1)
		return p, fmt.Errorf("publish %s: %w", filepath.Base(src), err)
	}
	if !p.Existed {
		x.published.Add(1)
	}
	return p, nil
}

func (x *Index) publish(ctx context.Context, src, wantSHA256 string) (Published, error) {
	var p Published
	if err := ctx.Err(); err != nil {
		return p, err
	}
	wn, err := ParseWheelName(filepath.Base(src))
	if err != nil {
		return p, err
	}
	p.Project = Normalize(wn.Dist)
	pdir := filepath.Join(x.dir, p.Project)
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return p, fmt.Errorf("create project directory: %w", err)
	}
	// Stage, hash and read the wheel before taking the lock: a staged file
	// (a new link or copy) does not change, and the lock is held only for
	// the renames and page writes.
	tmp, err := stage(src, pdir)
	if err != nil {
		return p, err
	}
	defer os.Remove(tmp) // after a rename into place this is a no-op
	sha, size, err := hashFile(tmp)
	if err != nil {
		return p, err
	}
	if wantSHA256 != "" && sha != wantSHA256 {
		return p, fmt.Errorf("wheel bytes changed since the build: sha256 %s, the build recorded %s", sha, wantSHA256)
	}
	md, err := ReadCoreMetadata(tmp)
	if err != nil {
		return p, err
	}
	if Normalize(md.Name) != p.Project {
		return p, fmt.Errorf("METADATA Name %q does not match the file name's %q", md.Name, wn.Dist)
	}
	f := File{Filename: wn.File, URL: wn.File, Hashes: map[string]string{"sha256": sha},
		RequiresPython: md.RequiresPython, Size: size, UploadTime: x.now().UTC().Format("2006-01-02T15:04:05.000000Z")}
	msum := sum(md.Raw)
	f.CoreMetadata = map[string]string{"sha256": msum}
	p.File, p.Path = f, p.Project+"/"+wn.File

	lock, err := lockFile(filepath.Join(x.dir, lockName))
	if err != nil {
		return p, err
	}
	defer lock.Close()
	page, isNew, err := readProject(pdir)
	if err != nil {
		return p, err
	}
	if old, ok := page.file(wn.File); ok {
		if old.SHA256() != sha {
			return p, fmt.Errorf("%s: %w (listed %s, new %s)", wn.File, ErrConflict, old.SHA256(), sha)
		}
		p.File, p.Existed = old, true
		return p, nil
	}
	if err := writeAtomic(filepath.Join(pdir, wn.File+MetadataSuffix), md.Raw); err != nil {
		return p, err
	}
	if err := os.Rename(tmp, filepath.Join(pdir, wn.File)); err != nil {
		return p, fmt.Errorf("move wheel into the index: %w", err)
	}
	if err := regfile.SyncDir(pdir); err != nil {
		return p, fmt.Errorf("sync project directory: %w", err)
	}
	if isNew {
		page.Name = md.Name
	}
	page.add(f, md.Version)
	if err := writeProject(pdir, page); err != nil {
		return p, err
	}
	if isNew {
		if err := x.addToRoot(md.Name); err != nil {
			return p, err
		}
	}
	if err := x.bumpStats(isNew, size); err != nil {
		x.log.Warn("wheel index: counts not updated (index rebuild recounts)", "err", err)
	}
	return p, nil
}

// readProject returns the project's JSON page, or a new one.
func readProject(pdir string) (*ProjectPage, bool, error) {
	b, err := os.ReadFile(filepath.Join(pdir, PageJSON))
	if errors.Is(err, fs.ErrNotExist) {
		return &ProjectPage{Meta: meta{APIVersion: APIVersion}, Files: []File{}, Versions: []string{}}, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read project page: %w", err)
	}
	var p ProjectPage
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, false, fmt.Errorf("project page %s is not valid JSON (run index rebuild): %w", filepath.Join(pdir, PageJSON), err)
	}
	p.Meta.APIVersion = APIVersion
	return &p, false, nil
}

// writeProject writes both forms of a project page, JSON first (it is the
// record the next publish starts from).
func writeProject(pdir string, p *ProjectPage) error {
	j, err := renderJSON(p)
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(pdir, PageJSON), j); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(pdir, PageHTML), renderProjectHTML(p))
}

func (x *Index) readRoot() (*RootPage, error) {
	b, err := os.ReadFile(filepath.Join(x.dir, PageJSON))
	if errors.Is(err, fs.ErrNotExist) {
		return &RootPage{Meta: meta{APIVersion: APIVersion}, Projects: []RootProject{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read root page: %w", err)
	}
	var r RootPage
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("root page is not valid JSON (run index rebuild): %w", err)
	}
	r.Meta.APIVersion = APIVersion
	return &r, nil
}

// addToRoot appends a new project to the root pages. Only a project's first
// wheel rewrites the root.
func (x *Index) addToRoot(name string) error {
	r, err := x.readRoot()
	if err != nil {
		return err
	}
	for _, p := range r.Projects {
		if Normalize(p.Name) == Normalize(name) {
			return nil
		}
	}
	r.Projects = append(r.Projects, RootProject{Name: name})
	return writeRoot(x.dir, r)
}

func writeRoot(dir string, r *RootPage) error {
	j, err := renderJSON(r)
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, PageJSON), j); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, PageHTML), renderRootHTML(r))
}

// Stats counts what the index holds (kept in .stats.json, updated by every
// publish, recounted by Rebuild).
type Stats struct {
	Projects int   `json:"projects"`
	Wheels   int   `json:"wheels"`
	Bytes    int64 `json:"bytes"`
}

// Stats reads the index's counts.
func (x *Index) Stats() (Stats, error) {
	var s Stats
	b, err := os.ReadFile(filepath.Join(x.dir, statsName))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read index counts: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("index counts: %w", err)
	}
	return s, nil
}

func (x *Index) bumpStats(newProject bool, size int64) error {
	s, err := x.Stats()
	if err != nil {
		return err
	}
	if newProject {
		s.Projects++
	}
	s.Wheels++
	s.Bytes += size
	return x.writeStats(s)
}

func (x *Index) writeStats(s Stats) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return write(filepath.Join(x.dir, statsName), b, false)
}

// Counters are this process's publish counts (metrics).
func (x *Index) Counters() (published, failures int64) {
	return x.published.Load(), x.failures.Load()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
