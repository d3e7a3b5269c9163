package podman

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

var wheelNameSep = regexp.MustCompile(`[-_.]+`)

// wheelKey normalises a distribution name the way PEP 427 file names spell
// it: lowercase, runs of - _ . become _.
func wheelKey(name string) string {
	return strings.ToLower(wheelNameSep.ReplaceAllString(name, "_"))
}

// versionKey compares versions as wheel file names write them ("-" is "_").
func versionKey(v string) string {
	return strings.ToLower(strings.ReplaceAll(v, "-", "_"))
}

// parseWheelName splits a PEP 427 file name
// {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl.
func parseWheelName(file string) (name, version string, ok bool) {
	base, found := strings.CutSuffix(file, ".whl")
	if !found {
		return "", "", false
	}
	parts := strings.Split(base, "-")
	if len(parts) != 5 && len(parts) != 6 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// findWheels returns the wheels in dir written for job (by PEP 427 name and
// version) since the build started, each verified and hashed, and how many
// other entries dir holds. A matching file that is not a valid wheel is an
// error.
func findWheels(dir string, job pipeline.Job, since time.Time) (wheels []pipeline.Wheel, others int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("list output dir: %w", err)
	}
	// File systems keep mtimes in coarse units; allow for it.
	since = since.Add(-2 * time.Second)
	for _, e := range entries {
		name, version, ok := parseWheelName(e.Name())
		if !ok || !e.Type().IsRegular() || wheelKey(name) != wheelKey(job.Name) || versionKey(version) != versionKey(job.Version) {
			others++
			continue
		}
		info, err := e.Info()
		if err != nil || info.ModTime().Before(since) {
			others++
			continue
		}
		w, err := inspectWheel(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, 0, err
		}
		wheels = append(wheels, w)
	}
	return wheels, others, nil
}

// moveWheels moves the wheels found in a job's build dir into dir, each by
// one rename (same file system), replacing a file of the same name.
func moveWheels(from, dir string, wheels []pipeline.Wheel) error {
	for _, w := range wheels {
		if err := os.Rename(filepath.Join(from, w.File), filepath.Join(dir, w.File)); err != nil {
			return fmt.Errorf("move wheel %s into the output dir: %w", w.File, err)
		}
	}
	return nil
}

// inspectWheel checks that path is a readable zip holding
// *.dist-info/WHEEL with at least one Tag, and returns its size, sha256 and
// tags.
func inspectWheel(path string) (pipeline.Wheel, error) {
	w := pipeline.Wheel{File: filepath.Base(path)}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return w, fmt.Errorf("wheel %s is not a readable zip: %w", w.File, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		dirName, rest, ok := strings.Cut(f.Name, "/")
		if !ok || rest != "WHEEL" || !strings.HasSuffix(dirName, ".dist-info") {
			continue
		}
		tags, err := readWheelTags(f)
		if err != nil {
			return w, fmt.Errorf("wheel %s: %w", w.File, err)
		}
		w.Tags = tags
		break
	}
	if len(w.Tags) == 0 {
		return w, fmt.Errorf("wheel %s has no *.dist-info/WHEEL with a Tag", w.File)
	}
	fh, err := os.Open(path)
	if err != nil {
		return w, fmt.Errorf("open wheel: %w", err)
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return w, fmt.Errorf("hash wheel %s: %w", w.File, err)
	}
	w.Size, w.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	return w, nil
}

func readWheelTags(f *zip.File) ([]string, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", f.Name, err)
	}
	defer rc.Close()
	var tags []string
	sc := bufio.NewScanner(io.LimitReader(rc, 1<<20))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Tag:"); ok {
			if t := strings.TrimSpace(v); t != "" && !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return nil, fmt.Errorf("read %s: %w", f.Name, err)
	}
	return tags, nil
}
