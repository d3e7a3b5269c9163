package wheelaudit

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Report is what Audit finds in one wheel (read-only, like `auditwheel show`).
type Report struct {
	File           string            // wheel file name
	Pure           bool              // no ELF files and a none-any platform tag
	FileTags       []string          // tags from the file name, expanded (py-abi-plat triples)
	WheelTags      []string          // WHEEL `Tag:` lines
	Arch           string            // "s390x", "x86_64", ... from ELF e_machine (the file's tag when it has no ELF); "" when pure
	GlibcLevel     string            // highest GLIBC_x.y any ELF needs, e.g. "2.17"; "" when none
	SymbolVersions map[string]string // highest needed per family: GLIBC, GLIBCXX, CXXABI, GCC
	Needed         []string          // DT_NEEDED libraries of all ELF files, sorted unique
	External       []string          // needed libraries neither bundled in the wheel nor allowed by any policy for Arch
	SatisfiedTags  []string          // platform tags it satisfies, newest first, e.g. manylinux_2_36_s390x ... manylinux_2_17_s390x, manylinux2014_s390x
	Problems       []string          // human-readable reasons it does not fit (filled by Fits)

	// ELFFiles are the wheel members that are ELF files, in wheel order.
	ELFFiles []string
	// SpecialVersions are needed versions of the tracked families without a
	// number, e.g. "GLIBC_PRIVATE" or "GLIBC_ABI_DT_RELR"; sorted unique.
	SpecialVersions []string
	// Bundled are the libraries the wheel carries itself (file names and
	// SONAMEs of its ELF files); a DT_NEEDED entry naming one is satisfied.
	Bundled []string

	name   wheelName
	policy *Policy
	mixed  string // set when ELF files are for different machines
}

// Audit reads the wheel at path with DefaultLimits. Errors name the file and
// the reason: not a zip, a bad ELF file, tags in the name that differ from
// WHEEL's Tag lines, a member name escaping the install directory, a limit.
func Audit(path string) (*Report, error) {
	return AuditWith(path, DefaultLimits())
}

// AuditWith is Audit with explicit limits.
func AuditWith(path string, limits Limits) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit wheel: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("audit wheel: %w", err)
	}
	return auditZip(filepath.Base(path), f, st.Size(), limits)
}

func auditZip(name string, r io.ReaderAt, size int64, limits Limits) (*Report, error) {
	return auditZipWith(name, r, size, limits, pooledInflater())
}

// auditZipWith takes the deflate decompressor (nil: compress/flate), for
// the benchmark's baseline.
func auditZipWith(name string, r io.ReaderAt, size int64, limits Limits, inflate zip.Decompressor) (*Report, error) {
	rep, err := audit(name, r, size, limits.withDefaults(), inflate)
	if err != nil {
		return nil, fmt.Errorf("audit wheel %s: %w", name, err)
	}
	return rep, nil
}

func audit(name string, r io.ReaderAt, size int64, limits Limits, inflate zip.Decompressor) (*Report, error) {
	pol, err := loadPolicy()
	if err != nil {
		return nil, err
	}
	wn, err := parseWheelName(name)
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a zip archive: %w", err)
	}
	if inflate != nil {
		zr.RegisterDecompressor(zip.Deflate, inflate)
	}
	if err := checkMembers(zr.File, limits); err != nil {
		return nil, err
	}
	rep := &Report{File: name, FileTags: wn.triples(), SymbolVersions: map[string]string{}, name: wn, policy: pol}
	b := &budget{limits: limits}
	wheelFile, err := findWheelFile(zr)
	if err != nil {
		return nil, err
	}
	data, err := b.readAll(wheelFile, limits.MaxMetadataBytes)
	if err != nil {
		return nil, err
	}
	rep.WheelTags = wheelTagLines(string(data))
	if err := sameTags(rep.FileTags, rep.WheelTags); err != nil {
		return nil, err
	}
	infos, err := scanMembers(zr, b, rep, r, size)
	if err != nil {
		return nil, err
	}
	rep.summarize(infos)
	return rep, nil
}

// findWheelFile finds the one top-level *.dist-info/WHEEL.
func findWheelFile(zr *zip.Reader) (*zip.File, error) {
	var found *zip.File
	for _, f := range zr.File {
		dir, base := path.Split(f.Name)
		if base != "WHEEL" || strings.Count(dir, "/") != 1 || !strings.HasSuffix(dir, ".dist-info/") {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("two WHEEL files: %s and %s", found.Name, f.Name)
		}
		found = f
	}
	if found == nil {
		return nil, fmt.Errorf("no *.dist-info/WHEEL file")
	}
	return found, nil
}

// wheelTagLines returns the values of the "Tag:" header lines.
func wheelTagLines(wheel string) []string {
	var tags []string
	for _, line := range strings.Split(wheel, "\n") {
		key, val, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if ok && strings.EqualFold(strings.TrimSpace(key), "Tag") {
			tags = append(tags, strings.TrimSpace(val))
		}
	}
	return tags
}

func sameTags(fromName, fromWheel []string) error {
	a, b := sortedUnique(fromName), sortedUnique(fromWheel)
	if strings.Join(a, " ") != strings.Join(b, " ") {
		return fmt.Errorf("tag mismatch: the file name says %s, WHEEL Tag lines say %s",
			strings.Join(a, " "), orNone(strings.Join(b, " ")))
	}
	return nil
}

type memberELF struct {
	name string
	info elfInfo
}

// scanMembers reads every member's first bytes and each ELF file whole.
func scanMembers(zr *zip.Reader, b *budget, rep *Report, wheel io.ReaderAt, wheelSize int64) ([]memberELF, error) {
	var out []memberELF
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		head, err := b.readHead(f, len(elfMagic))
		if err != nil {
			return nil, err
		}
		if !isELF(head) {
			continue
		}
		ra, release, err := b.memberReader(f, wheel, wheelSize)
		if err != nil {
			return nil, err
		}
		info, err := scanELF(ra)
		release()
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", f.Name, err)
		}
		out = append(out, memberELF{name: f.Name, info: info})
		rep.ELFFiles = append(rep.ELFFiles, f.Name)
	}
	return out, nil
}
