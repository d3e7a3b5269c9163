package wheelindex

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/textproto"
	"strings"
)

// maxMetadata bounds the METADATA file read from a wheel.
const maxMetadata = 16 << 20

// CoreMetadata is what the index needs from a wheel's METADATA file.
type CoreMetadata struct {
	Name           string
	Version        string
	RequiresPython string
	Raw            []byte // the file, as served beside the wheel (PEP 658)
}

// ReadCoreMetadata returns the {dist}-{version}.dist-info/METADATA of the
// wheel at path. The dist-info directory must be at the top of the archive
// and be the only one holding a METADATA file.
func ReadCoreMetadata(path string) (CoreMetadata, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return CoreMetadata{}, fmt.Errorf("wheel is not a readable zip: %w", err)
	}
	defer zr.Close()
	var found *zip.File
	for _, f := range zr.File {
		dir, rest, ok := strings.Cut(f.Name, "/")
		if !ok || rest != "METADATA" || !strings.HasSuffix(dir, ".dist-info") {
			continue
		}
		if found != nil {
			return CoreMetadata{}, fmt.Errorf("wheel has two METADATA files: %s and %s", found.Name, f.Name)
		}
		found = f
	}
	if found == nil {
		return CoreMetadata{}, fmt.Errorf("wheel has no *.dist-info/METADATA")
	}
	rc, err := found.Open()
	if err != nil {
		return CoreMetadata{}, fmt.Errorf("open %s: %w", found.Name, err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, maxMetadata+1))
	if err != nil {
		return CoreMetadata{}, fmt.Errorf("read %s: %w", found.Name, err)
	}
	if len(raw) > maxMetadata {
		return CoreMetadata{}, fmt.Errorf("%s is larger than %d bytes", found.Name, maxMetadata)
	}
	return ParseCoreMetadata(raw)
}

// ParseCoreMetadata reads the header fields of a METADATA file (an email
// header block; the description may follow a blank line).
func ParseCoreMetadata(raw []byte) (CoreMetadata, error) {
	md := CoreMetadata{Raw: raw}
	head := raw
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		head = raw[:i+1]
	}
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(bytes.TrimLeft(head, "\r\n"), '\n'))))
	h, err := r.ReadMIMEHeader()
	if err != nil && err != io.EOF {
		return md, fmt.Errorf("METADATA header: %w", err)
	}
	md.Name = strings.TrimSpace(h.Get("Name"))
	md.Version = strings.TrimSpace(h.Get("Version"))
	md.RequiresPython = strings.TrimSpace(h.Get("Requires-Python"))
	switch {
	case md.Name == "":
		return md, fmt.Errorf("METADATA: field Name is missing")
	case !ValidName(md.Name):
		return md, fmt.Errorf("METADATA: field Name %q is not a valid distribution name", md.Name)
	case md.Version == "":
		return md, fmt.Errorf("METADATA: field Version is missing")
	}
	return md, nil
}
