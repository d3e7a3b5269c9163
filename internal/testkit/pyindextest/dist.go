// Package pyindextest serves a Python simple index over wheels and sdists
// it generates, for tests of the index client, the resolver and the
// planner. It speaks PEP 503 HTML and (optionally) PEP 691 JSON, serves
// PEP 658 metadata files when asked, honours ETag validators and, unless
// told not to, HTTP range requests.
package pyindextest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"regexp"
	"strings"
)

// Dist is one release of a project on the test index.
type Dist struct {
	Name, Version string
	// Requires are Requires-Dist lines, e.g. `b>=1; extra == "x"`.
	Requires       []string
	RequiresPython string
	// HideRequiresPython leaves RequiresPython out of the index pages (it
	// stays in the metadata), as older indexes do.
	HideRequiresPython bool
	Extras             []string
	// Yanked marks every file of the release yanked with this reason
	// (use "yes" for no particular reason).
	Yanked string
	// WheelTags makes a wheel with these tags, e.g. "py3-none-any" or
	// "cp311-cp311-manylinux2014_s390x"; several wheels are allowed.
	WheelTags []string
	// Sdist makes a .tar.gz sdist. SdistMetadataVersion defaults to "2.2";
	// SdistDynamic lists fields marked Dynamic in its PKG-INFO.
	Sdist                bool
	SdistMetadataVersion string
	SdistDynamic         []string
	// MetadataVersionClaim, when set, is the Version the metadata gives
	// instead of Version (an inconsistent upload).
	MetadataVersionClaim string
	// PEP658 serves <file>.metadata next to the wheels.
	PEP658 bool
	// Pad adds this many bytes of incompressible data to each wheel, to
	// make range requests worthwhile.
	Pad int
}

var sepRE = regexp.MustCompile(`[-_.]+`)

// Normalize is the PEP 503 name normalisation.
func Normalize(name string) string { return sepRE.ReplaceAllString(strings.ToLower(name), "-") }

func underscore(name string) string { return sepRE.ReplaceAllString(name, "_") }

// Metadata renders the core metadata of d.
func (d Dist) Metadata(version string, dynamic []string) []byte {
	var b bytes.Buffer
	claimed := d.Version
	if d.MetadataVersionClaim != "" {
		claimed = d.MetadataVersionClaim
	}
	fmt.Fprintf(&b, "Metadata-Version: %s\nName: %s\nVersion: %s\n", version, d.Name, claimed)
	if d.RequiresPython != "" {
		fmt.Fprintf(&b, "Requires-Python: %s\n", d.RequiresPython)
	}
	for _, e := range d.Extras {
		fmt.Fprintf(&b, "Provides-Extra: %s\n", e)
	}
	for _, dyn := range dynamic {
		fmt.Fprintf(&b, "Dynamic: %s\n", dyn)
	}
	for _, r := range d.Requires {
		fmt.Fprintf(&b, "Requires-Dist: %s\n", r)
	}
	b.WriteString("\nA generated test package.\n")
	return b.Bytes()
}

// WheelName is the file name of d's wheel with tags.
func (d Dist) WheelName(tags string) string {
	return fmt.Sprintf("%s-%s-%s.whl", underscore(d.Name), d.Version, tags)
}

// SdistName is the file name of d's sdist.
func (d Dist) SdistName() string { return fmt.Sprintf("%s-%s.tar.gz", underscore(d.Name), d.Version) }

// Wheel builds an installable wheel of d.
func (d Dist) Wheel(tags string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	pkg := strings.ToLower(underscore(d.Name))
	distInfo := fmt.Sprintf("%s-%s.dist-info", underscore(d.Name), d.Version)
	files := []struct {
		name string
		body []byte
	}{
		{pkg + "/__init__.py", []byte(fmt.Sprintf("__version__ = %q\n", d.Version))},
	}
	if d.Pad > 0 {
		pad := make([]byte, d.Pad)
		x := uint32(2463534242)
		for i := range pad {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			pad[i] = byte(x)
		}
		files = append(files, struct {
			name string
			body []byte
		}{pkg + "/pad.bin", pad})
	}
	files = append(files,
		struct {
			name string
			body []byte
		}{distInfo + "/METADATA", d.Metadata("2.1", nil)},
		struct {
			name string
			body []byte
		}{distInfo + "/WHEEL", []byte("Wheel-Version: 1.0\nGenerator: pyindextest\nRoot-Is-Purelib: true\nTag: " + tags + "\n")},
	)
	var record strings.Builder
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Store})
		if err != nil {
			return nil, fmt.Errorf("wheel entry %s: %w", f.name, err)
		}
		if _, err := w.Write(f.body); err != nil {
			return nil, fmt.Errorf("wheel entry %s: %w", f.name, err)
		}
		fmt.Fprintf(&record, "%s,,\n", f.name)
	}
	record.WriteString(distInfo + "/RECORD,,\n")
	w, err := zw.Create(distInfo + "/RECORD")
	if err != nil {
		return nil, fmt.Errorf("wheel RECORD: %w", err)
	}
	if _, err := w.Write([]byte(record.String())); err != nil {
		return nil, fmt.Errorf("wheel RECORD: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("close wheel: %w", err)
	}
	return buf.Bytes(), nil
}

// SdistArchive builds d's sdist with a top-level PKG-INFO.
func (d Dist) SdistArchive() ([]byte, error) {
	mv := d.SdistMetadataVersion
	if mv == "" {
		mv = "2.2"
	}
	top := fmt.Sprintf("%s-%s", underscore(d.Name), d.Version)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		body []byte
	}{
		{top + "/PKG-INFO", d.Metadata(mv, d.SdistDynamic)},
		{top + "/pyproject.toml", []byte("[build-system]\nrequires = []\n")},
		{top + "/src/PKG-INFO", []byte("not the top-level one\n")},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			return nil, fmt.Errorf("sdist entry %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, fmt.Errorf("sdist entry %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close sdist: %w", err)
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("close sdist: %w", err)
	}
	return buf.Bytes(), nil
}
