package wheelindex

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// VerifyReport lists what Verify checked and every mismatch it found.
type VerifyReport struct {
	Projects, Files int
	Problems        []string
}

// OK is true when nothing is wrong.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

func (r *VerifyReport) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Verify checks the index against the bytes on disk: every listed file
// exists with its listed size and sha256, every metadata file with its
// listed sha256, each HTML page says what its JSON page says, the root lists
// every project directory, and no wheel in a project directory is unlisted.
// It takes the lock, so it sees no publish half done.
func (x *Index) Verify(ctx context.Context) (VerifyReport, error) {
	var rep VerifyReport
	lock, err := lockFile(filepath.Join(x.dir, lockName))
	if err != nil {
		return rep, err
	}
	defer lock.Close()
	root, err := x.readRoot()
	if err != nil {
		rep.problem("root: %v", err)
		return rep, nil
	}
	if b, err := os.ReadFile(filepath.Join(x.dir, PageHTML)); err != nil || !bytes.Equal(b, renderRootHTML(root)) {
		rep.problem("root: %s does not match %s", PageHTML, PageJSON)
	}
	listed := map[string]bool{}
	for _, p := range root.Projects {
		listed[Normalize(p.Name)] = true
	}
	entries, err := os.ReadDir(x.dir)
	if err != nil {
		return rep, fmt.Errorf("read index: %w", err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if !e.IsDir() || !IsNormalized(e.Name()) || (!listed[e.Name()] && x.noProject(e.Name())) {
			continue
		}
		seen[e.Name()] = true
		rep.Projects++
		if !listed[e.Name()] {
			rep.problem("%s: not listed on the root page", e.Name())
		}
		x.verifyProject(e.Name(), &rep)
	}
	for name := range listed {
		if !seen[name] {
			rep.problem("%s: listed on the root page but has no directory", name)
		}
	}
	return rep, nil
}

// noProject is true for a directory with no page and no wheel: what a
// publish that failed before its first wheel leaves (the directory is made
// before the lock is taken, so it is not removed after a failure).
func (x *Index) noProject(name string) bool {
	entries, err := os.ReadDir(filepath.Join(x.dir, name))
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Name() == PageJSON || e.Name() == PageHTML || strings.HasSuffix(e.Name(), ".whl") {
			return false
		}
	}
	return true
}

func (x *Index) verifyProject(project string, rep *VerifyReport) {
	pdir := filepath.Join(x.dir, project)
	page, isNew, err := readProject(pdir)
	if err != nil {
		rep.problem("%s: %v", project, err)
		return
	}
	if isNew {
		rep.problem("%s: has no %s", project, PageJSON)
		return
	}
	if b, err := os.ReadFile(filepath.Join(pdir, PageHTML)); err != nil || !bytes.Equal(b, renderProjectHTML(page)) {
		rep.problem("%s: %s does not match %s", project, PageHTML, PageJSON)
	}
	for _, f := range page.Files {
		rep.Files++
		path := filepath.Join(pdir, f.Filename)
		if info, err := os.Lstat(path); err != nil || !info.Mode().IsRegular() {
			rep.problem("%s/%s: listed but not a regular file on disk", project, f.Filename)
			continue
		}
		sha, size, err := hashFile(path)
		switch {
		case err != nil:
			rep.problem("%s/%s: %v", project, f.Filename, err)
		case sha != f.SHA256():
			rep.problem("%s/%s: sha256 %s, listed %s", project, f.Filename, sha, f.SHA256())
		case size != f.Size:
			rep.problem("%s/%s: size %d, listed %d", project, f.Filename, size, f.Size)
		}
		md, err := os.ReadFile(path + MetadataSuffix)
		if err != nil {
			rep.problem("%s/%s%s: %v", project, f.Filename, MetadataSuffix, err)
		} else if sum(md) != f.MetadataSHA256() {
			rep.problem("%s/%s%s: sha256 %s, listed %s", project, f.Filename, MetadataSuffix, sum(md), f.MetadataSHA256())
		}
	}
	entries, err := os.ReadDir(pdir)
	if err != nil {
		rep.problem("%s: %v", project, err)
		return
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".whl") && !strings.HasPrefix(e.Name(), ".") {
			if _, ok := page.file(e.Name()); !ok {
				rep.problem("%s/%s: on disk but not listed", project, e.Name())
			}
		}
	}
}

// Walk calls fn for every file listed on the project pages.
func (x *Index) Walk(fn func(Published) error) error {
	root, err := x.readRoot()
	if err != nil {
		return err
	}
	for _, rp := range root.Projects {
		project := Normalize(rp.Name)
		page, _, err := readProject(filepath.Join(x.dir, project))
		if err != nil {
			return err
		}
		for _, f := range page.Files {
			if err := fn(Published{Project: project, File: f, Path: project + "/" + f.Filename, Existed: true}); err != nil {
				return err
			}
		}
	}
	return nil
}
