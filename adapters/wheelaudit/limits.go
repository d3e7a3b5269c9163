package wheelaudit

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"
)

// Limits bound what the audit reads from a wheel, which is untrusted input.
// A zero field takes its default.
type Limits struct {
	// MaxMembers is the most files a wheel may hold. Default 200000.
	MaxMembers int
	// MaxMemberBytes is the most uncompressed bytes read from one file of
	// the wheel (an ELF file is read whole). Default 2 GiB.
	MaxMemberBytes int64
	// MaxTotalBytes is the most uncompressed bytes read from the whole
	// wheel. Default 8 GiB.
	MaxTotalBytes int64
	// MaxMetadataBytes is the most bytes read from WHEEL or RECORD.
	// Default 64 MiB.
	MaxMetadataBytes int64
	// MaxMemoryBytes is how much of one inflated ELF file is kept in
	// memory; the rest spills to a temporary file in SpillDir. Default
	// 64 MiB.
	MaxMemoryBytes int64
	// SpillDir holds those temporary files. Default os.TempDir().
	SpillDir string
}

// DefaultLimits are the limits Audit and Retag use.
func DefaultLimits() Limits {
	return Limits{MaxMembers: 200_000, MaxMemberBytes: 2 << 30, MaxTotalBytes: 8 << 30, MaxMetadataBytes: 64 << 20, MaxMemoryBytes: 64 << 20}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxMembers <= 0 {
		l.MaxMembers = d.MaxMembers
	}
	if l.MaxMemberBytes <= 0 {
		l.MaxMemberBytes = d.MaxMemberBytes
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxMetadataBytes <= 0 {
		l.MaxMetadataBytes = d.MaxMetadataBytes
	}
	if l.MaxMemoryBytes <= 0 {
		l.MaxMemoryBytes = d.MaxMemoryBytes
	}
	return l
}

// budget counts uncompressed bytes read from one wheel.
type budget struct {
	limits Limits
	used   int64
}

// readAll reads one member whole, at most max bytes and within the total
// budget; the sizes the zip declares are not trusted.
func (b *budget) readAll(f *zip.File, max int64) ([]byte, error) {
	if left := b.limits.MaxTotalBytes - b.used; left < max {
		max = left
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("member %s: %w", f.Name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if f.UncompressedSize64 > 0 && f.UncompressedSize64 <= uint64(max) && f.UncompressedSize64 < 64<<20 {
		buf.Grow(int(f.UncompressedSize64))
	}
	n, err := io.Copy(&buf, io.LimitReader(rc, max+1))
	b.used += n
	if err != nil {
		return nil, fmt.Errorf("member %s: %w", f.Name, err)
	}
	if n > max {
		return nil, fmt.Errorf("member %s: more than %d uncompressed bytes (limit per file %d, per wheel %d)",
			f.Name, max, b.limits.MaxMemberBytes, b.limits.MaxTotalBytes)
	}
	return buf.Bytes(), nil
}

// readHead reads the first n bytes of a member (to spot ELF files).
func (b *budget) readHead(f *zip.File, n int) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("member %s: %w", f.Name, err)
	}
	defer rc.Close()
	head := make([]byte, n)
	got, err := io.ReadFull(rc, head)
	b.used += int64(got)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("member %s: %w", f.Name, err)
	}
	return head[:got], nil
}

// checkMembers bounds the member count and checks every name once.
func checkMembers(files []*zip.File, limits Limits) error {
	if len(files) > limits.MaxMembers {
		return fmt.Errorf("%d files, more than the limit of %d", len(files), limits.MaxMembers)
	}
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		if err := checkMemberName(f.Name); err != nil {
			return err
		}
		if seen[f.Name] {
			return fmt.Errorf("member %q: appears twice", f.Name)
		}
		seen[f.Name] = true
	}
	return nil
}

// checkMemberName rejects names that would escape the install directory
// or that installers treat differently: absolute paths, "..", backslashes,
// drive letters, NUL.
func checkMemberName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("member with an empty name")
	case strings.ContainsAny(name, "\\\x00"):
		return fmt.Errorf("member %q: backslash or NUL in the name", name)
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("member %q: absolute path", name)
	case len(name) >= 2 && name[1] == ':':
		return fmt.Errorf("member %q: drive letter", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return fmt.Errorf("member %q: path traversal (..)", name)
		}
	}
	if trimmed := strings.TrimSuffix(name, "/"); path.Clean(trimmed) != trimmed {
		return fmt.Errorf("member %q: not a clean path", name)
	}
	return nil
}
