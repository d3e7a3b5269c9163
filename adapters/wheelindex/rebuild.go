package wheelindex

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// staleTemp is how old a temporary file must be before Rebuild removes it
// (younger ones may belong to a publish in progress in another worker).
const staleTemp = time.Hour

// RebuildReport says what Rebuild found.
type RebuildReport struct {
	Stats
	// Skipped lists wheels left out of the index, with the reason.
	Skipped []string
}

// Rebuild writes every page again from the wheels present under the index
// root: hashes, sizes and metadata files are recomputed, upload times are
// kept from the old pages where the bytes are the same. Wheels that are not
// valid (bad name, no METADATA, name mismatch) are left out and reported.
func (x *Index) Rebuild(ctx context.Context) (RebuildReport, error) {
	var rep RebuildReport
	lock, err := lockFile(filepath.Join(x.dir, lockName))
	if err != nil {
		return rep, err
	}
	defer lock.Close()
	entries, err := os.ReadDir(x.dir)
	if err != nil {
		return rep, fmt.Errorf("read index: %w", err)
	}
	root := &RootPage{Meta: meta{APIVersion: APIVersion}, Projects: []RootProject{}}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if !e.IsDir() || !IsNormalized(e.Name()) {
			continue
		}
		page, err := x.rebuildProject(filepath.Join(x.dir, e.Name()), e.Name(), &rep)
		if err != nil {
			return rep, err
		}
		if page == nil {
			continue
		}
		root.Projects = append(root.Projects, RootProject{Name: page.Name})
		rep.Projects++
	}
	if err := writeRoot(x.dir, root); err != nil {
		return rep, err
	}
	if err := x.writeStats(rep.Stats); err != nil {
		return rep, err
	}
	return rep, nil
}

// rebuildProject writes one project's pages from its wheels; nil when it
// holds none.
func (x *Index) rebuildProject(pdir, project string, rep *RebuildReport) (*ProjectPage, error) {
	old, _, err := readProject(pdir)
	if err != nil {
		x.log.Warn("wheel index: unreadable project page replaced", "project", project, "err", err)
		old = &ProjectPage{}
	}
	entries, err := os.ReadDir(pdir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", project, err)
	}
	page := &ProjectPage{Meta: meta{APIVersion: APIVersion}, Files: []File{}, Versions: []string{}}
	type entry struct {
		f       File
		version string
	}
	var found []entry
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(pdir, name)
		if strings.HasPrefix(name, tmpPrefix) {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
				os.Remove(path)
			}
			continue
		}
		if strings.HasSuffix(name, ".whl"+MetadataSuffix) {
			if _, err := os.Lstat(strings.TrimSuffix(path, MetadataSuffix)); err != nil {
				os.Remove(path) // its wheel is gone
			}
			continue
		}
		if !strings.HasSuffix(name, ".whl") {
			continue
		}
		if !e.Type().IsRegular() {
			rep.Skipped = append(rep.Skipped, project+"/"+name+": not a regular file")
			continue
		}
		f, version, err := x.describe(path, project)
		if err != nil {
			rep.Skipped = append(rep.Skipped, project+"/"+name+": "+err.Error())
			continue
		}
		if o, ok := old.file(name); ok && o.SHA256() == f.SHA256() && o.UploadTime != "" {
			f.UploadTime = o.UploadTime
		}
		if page.Name == "" {
			page.Name = version[1]
		}
		found = append(found, entry{f, version[0]})
		rep.Wheels++
		rep.Bytes += f.Size
	}
	if len(found) == 0 {
		for _, n := range []string{PageJSON, PageHTML} {
			os.Remove(filepath.Join(pdir, n))
		}
		return nil, nil
	}
	if old.Name != "" && Normalize(old.Name) == project {
		page.Name = old.Name // the display name first published
	}
	slices.SortStableFunc(found, func(a, b entry) int {
		return strings.Compare(a.f.UploadTime+a.f.Filename, b.f.UploadTime+b.f.Filename)
	})
	for _, e := range found {
		page.add(e.f, e.version)
	}
	if err := writeProject(pdir, page); err != nil {
		return nil, err
	}
	return page, nil
}

// describe hashes a wheel in the index, writes its metadata file and
// returns its page entry, its version and its METADATA name.
func (x *Index) describe(path, project string) (File, [2]string, error) {
	wn, err := ParseWheelName(filepath.Base(path))
	if err != nil {
		return File{}, [2]string{}, err
	}
	if Normalize(wn.Dist) != project {
		return File{}, [2]string{}, fmt.Errorf("belongs to project %s", Normalize(wn.Dist))
	}
	sha, size, err := hashFile(path)
	if err != nil {
		return File{}, [2]string{}, err
	}
	md, err := ReadCoreMetadata(path)
	if err != nil {
		return File{}, [2]string{}, err
	}
	if Normalize(md.Name) != project {
		return File{}, [2]string{}, fmt.Errorf("METADATA Name %q does not match the file name", md.Name)
	}
	if err := writeAtomic(path+MetadataSuffix, md.Raw); err != nil {
		return File{}, [2]string{}, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return File{}, [2]string{}, err
	}
	ms := map[string]string{"sha256": sum(md.Raw)}
	f := File{Filename: wn.File, URL: wn.File, Hashes: map[string]string{"sha256": sha}, RequiresPython: md.RequiresPython,
		CoreMetadata: ms, Size: size,
		UploadTime: info.ModTime().UTC().Format("2006-01-02T15:04:05.000000Z")}
	return f, [2]string{md.Version, md.Name}, nil
}
