package wheelaudit

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestAuditPureWheel(t *testing.T) {
	rep, err := Audit(makeWheel(t, "pkg-1.0-py3-none-any.whl", pyFile("pkg/__init__.py")))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Pure || rep.Arch != "" || len(rep.ELFFiles) != 0 {
		t.Errorf("pure=%v arch=%q elf=%v, want a pure wheel", rep.Pure, rep.Arch, rep.ELFFiles)
	}
	if want := []string{"py3-none-any"}; !reflect.DeepEqual(rep.FileTags, want) || !reflect.DeepEqual(rep.WheelTags, want) {
		t.Errorf("tags %v / %v, want %v", rep.FileTags, rep.WheelTags, want)
	}
}

func TestAuditELF(t *testing.T) {
	tests := []struct {
		name       string
		wheel      string
		members    []member
		arch       string
		glibc      string
		versions   map[string]string
		needed     []string
		external   []string
		firstTag   string // newest satisfied tag ("" when none)
		lastTag    string // oldest satisfied tag
		notSatisfy string // a tag it must not satisfy
	}{
		{
			name: "s390x old symbols", wheel: "pkg-1.0-cp311-cp311-linux_s390x.whl",
			members: []member{{"pkg/old.so", nil}}, arch: "s390x", glibc: "2.2",
			versions: map[string]string{"GLIBC": "2.2"}, needed: []string{"libc.so.6"},
			firstTag: "manylinux_2_36_s390x", lastTag: "manylinux2014_s390x", notSatisfy: "manylinux1_s390x",
		},
		{
			name: "s390x GLIBC_2.34", wheel: "pkg-1.0-cp311-cp311-linux_s390x.whl",
			members: []member{{"pkg/new.so", nil}}, arch: "s390x", glibc: "2.34",
			versions: map[string]string{"GLIBC": "2.34"}, needed: []string{"libc.so.6"},
			firstTag: "manylinux_2_36_s390x", lastTag: "manylinux_2_34_s390x", notSatisfy: "manylinux_2_31_s390x",
		},
		{
			name: "s390x links libxml2", wheel: "pkg-1.0-cp311-cp311-linux_s390x.whl",
			members: []member{{"pkg/xml.so", nil}}, arch: "s390x",
			versions: map[string]string{}, needed: []string{"libc.so.6", "libxml2.so.2"},
			external: []string{"libxml2.so.2"}, notSatisfy: "manylinux_2_36_s390x",
		},
		{
			name: "s390x libxml2 bundled", wheel: "pkg-1.0-cp311-cp311-linux_s390x.whl",
			members: []member{{"pkg/xml.so", nil}, {"pkg.libs/libxml2.so.2", nil}}, arch: "s390x",
			versions: map[string]string{}, needed: []string{"libc.so.6", "libxml2.so.2"},
			firstTag: "manylinux_2_36_s390x", lastTag: "manylinux2014_s390x",
		},
		{
			name: "x86_64 C++", wheel: "pkg-1.0-cp311-cp311-linux_x86_64.whl",
			members: []member{{"pkg/cxx.so", nil}}, arch: "x86_64", glibc: "2.14",
			versions: map[string]string{"GLIBC": "2.14", "GLIBCXX": "3.4.21", "CXXABI": "1.3.9", "GCC": "3.0"},
			needed:   []string{"libc.so.6", "libgcc_s.so.1", "libstdc++.so.6"},
			firstTag: "manylinux_2_36_x86_64", lastTag: "manylinux_2_24_x86_64", notSatisfy: "manylinux2014_x86_64",
		},
		{
			name: "x86_64 old symbols", wheel: "pkg-1.0-py3-none-linux_x86_64.whl",
			members: []member{{"pkg/old.so", nil}}, arch: "x86_64", glibc: "2.2.5",
			versions: map[string]string{"GLIBC": "2.2.5"}, needed: []string{"libc.so.6"},
			firstTag: "manylinux_2_36_x86_64", lastTag: "manylinux1_x86_64",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arch := tt.arch
			var ms []member
			for _, m := range tt.members {
				src := arch + "/" + m.name[strings.LastIndex(m.name, "/")+1:]
				ms = append(ms, member{m.name, fixture(t, src)})
			}
			rep, err := Audit(makeWheel(t, tt.wheel, append(ms, pyFile("pkg/__init__.py"))...))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Pure || rep.Arch != tt.arch || rep.GlibcLevel != tt.glibc {
				t.Errorf("pure=%v arch=%q glibc=%q, want arch %q glibc %q", rep.Pure, rep.Arch, rep.GlibcLevel, tt.arch, tt.glibc)
			}
			if !reflect.DeepEqual(rep.SymbolVersions, tt.versions) {
				t.Errorf("symbol versions %v, want %v", rep.SymbolVersions, tt.versions)
			}
			if !reflect.DeepEqual(rep.Needed, tt.needed) || !reflect.DeepEqual(rep.External, tt.external) {
				t.Errorf("needed %v external %v, want %v and %v", rep.Needed, rep.External, tt.needed, tt.external)
			}
			sat := rep.SatisfiedTags
			if tt.firstTag == "" {
				if len(sat) != 0 {
					t.Errorf("satisfied %v, want none", sat)
				}
			} else if len(sat) == 0 || sat[0] != tt.firstTag || sat[len(sat)-1] != tt.lastTag {
				t.Errorf("satisfied %v, want %s ... %s", sat, tt.firstTag, tt.lastTag)
			}
			for _, s := range sat {
				if s == tt.notSatisfy {
					t.Errorf("satisfied %v includes %s", sat, tt.notSatisfy)
				}
			}
		})
	}
}

func TestAuditRefusesBadWheels(t *testing.T) {
	elf := fixture(t, "s390x/old.so")
	bomb := append([]byte("\x7fELF"), make([]byte, 8<<20)...) // deflates to a few KiB
	const name = "pkg-1.0-cp311-cp311-linux_s390x.whl"
	tests := []struct {
		name    string
		file    string   // wheel file name
		tags    []string // WHEEL Tag lines; nil: from the name
		members []member
		raw     []byte // file content instead of a wheel
		limits  Limits
		want    string
	}{
		{name: "tag mismatch", file: name, tags: []string{"cp311-cp311-linux_x86_64"}, members: []member{{"pkg/a.so", elf}},
			want: "tag mismatch: the file name says cp311-cp311-linux_s390x, WHEEL Tag lines say cp311-cp311-linux_x86_64"},
		{name: "no Tag lines", file: name, tags: []string{}, members: []member{{"pkg/a.so", elf}},
			want: "tag mismatch: the file name says cp311-cp311-linux_s390x, WHEEL Tag lines say none"},
		{name: "not a zip", file: name, raw: []byte("this is not a wheel"), want: "not a zip archive"},
		{name: "bad file name", file: "pkg-1.0.whl", raw: []byte("x"), want: `wheel name "pkg-1.0.whl": want name-version[-build]-python-abi-platform.whl`},
		{name: "path traversal", file: name, members: []member{{"pkg/../../evil.py", []byte("x")}}, want: "path traversal"},
		{name: "duplicate member", file: name, members: []member{{"pkg/a.py", []byte("x")}, {"pkg/a.py", []byte("y")}}, want: `member "pkg/a.py": appears twice`},
		{name: "corrupt ELF", file: name, members: []member{{"pkg/a.so", append([]byte("\x7fELF"), make([]byte, 100)...)}}, want: "member pkg/a.so: bad ELF"},
		{name: "truncated ELF", file: name, members: []member{{"pkg/a.so", elf[:300]}}, want: "member pkg/a.so: bad ELF"},
		{name: "ELF bigger than the per-file limit", file: name, members: []member{{"pkg/a.so", bomb}}, limits: Limits{MaxMemberBytes: 1 << 20},
			want: "member pkg/a.so: more than 1048576 uncompressed bytes"},
		{name: "wheel bigger than the total limit", file: name, members: []member{{"pkg/a.so", elf}, {"pkg/b.so", elf}}, limits: Limits{MaxTotalBytes: int64(len(elf)) + 1000},
			want: "member pkg/b.so: more than"},
		{name: "too many files", file: name, members: []member{{"pkg/a.py", nil}, {"pkg/b.py", nil}}, limits: Limits{MaxMembers: 3},
			want: "5 files, more than the limit of 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tt.file)
			if tt.raw != nil {
				if err := os.WriteFile(path, tt.raw, 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				tags := tt.tags
				if tags == nil {
					wn, _ := parseWheelName(tt.file)
					tags = wn.triples()
				}
				var err error
				if path, err = writeWheelFile(dir, tt.file, tags, tt.members...); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := AuditWith(path, tt.limits)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "audit wheel "+tt.file) {
				t.Fatalf("AuditWith = %v, %v; want an error naming %s and %q", rep, err, tt.file, tt.want)
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	rep := auditFixtureWheel(t, "pkg-1.0-cp311-cp311-linux_s390x.whl", [2]string{"pkg/_ext.so", "s390x/xml.so"})
	rep.Fits("manylinux_2_36_s390x")
	got, err := json.Marshal(rep.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"arch":"s390x","external":["libxml2.so.2"],"glibc_level":"","needed":["libc.so.6","libxml2.so.2"],` +
		`"problems":["links libxml2.so.2, not allowed by manylinux_2_36"],"pure":false,"satisfied_tags":[],"symbol_versions":{}}`
	if string(got) != want {
		t.Errorf("metadata\n%s\nwant\n%s", got, want)
	}
}

// TestAuditStoredAndSpilledMembers: a stored ELF member is read in place,
// a deflated one past MaxMemoryBytes through a temporary file that is gone
// afterwards; both give the same report as the in-memory path.
func TestAuditStoredAndSpilledMembers(t *testing.T) {
	const name = "pkg-1.0-cp311-cp311-linux_s390x.whl"
	ms := []member{{"pkg/_ext.so", fixture(t, "s390x/new.so")}, {"pkg/_xml.so", fixture(t, "s390x/xml.so")}}
	tags := []string{"cp311-cp311-linux_s390x"}
	inMemory, err := Audit(makeWheel(t, name, ms...))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data, err := wheelBytesMethod(name, tags, zip.Store, ms...)
	if err != nil {
		t.Fatal(err)
	}
	stored := filepath.Join(dir, name)
	if err := os.WriteFile(stored, data, 0o644); err != nil {
		t.Fatal(err)
	}
	spillDir := t.TempDir()
	for _, c := range []struct {
		name   string
		path   string
		limits Limits
	}{
		{"stored", stored, Limits{}},
		{"spilled", makeWheel(t, name, ms...), Limits{MaxMemoryBytes: 1024, SpillDir: spillDir}},
	} {
		rep, err := AuditWith(c.path, c.limits)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if rep.GlibcLevel != inMemory.GlibcLevel || !reflect.DeepEqual(rep.Needed, inMemory.Needed) ||
			!reflect.DeepEqual(rep.SatisfiedTags, inMemory.SatisfiedTags) || rep.Arch != "s390x" {
			t.Errorf("%s: glibc %s needed %v satisfied %v; in memory: %s %v %v", c.name,
				rep.GlibcLevel, rep.Needed, rep.SatisfiedTags, inMemory.GlibcLevel, inMemory.Needed, inMemory.SatisfiedTags)
		}
	}
	if left, _ := os.ReadDir(spillDir); len(left) != 0 {
		t.Errorf("temporary files left in the spill directory: %v", left)
	}
}

// TestAuditRefusesStoredMemberPastTheEnd: a stored member whose declared
// size runs past the end of the wheel is an error, not a short read.
func TestAuditRefusesStoredMemberPastTheEnd(t *testing.T) {
	const name = "pkg-1.0-cp311-cp311-linux_s390x.whl"
	elf := fixture(t, "s390x/old.so")
	data, err := wheelBytesMethod(name, []string{"cp311-cp311-linux_s390x"}, zip.Store, member{"pkg/_ext.so", elf})
	if err != nil {
		t.Fatal(err)
	}
	// The central directory records the member's sizes; grow both in place.
	var sz [4]byte
	binary.LittleEndian.PutUint32(sz[:], uint32(len(elf)))
	var big [4]byte
	binary.LittleEndian.PutUint32(big[:], uint32(len(data)*4))
	cd := bytes.LastIndex(data, []byte("PK\x01\x02"))
	first := bytes.Index(data, []byte("PK\x01\x02"))
	if first < 0 || cd < 0 {
		t.Fatal("no central directory")
	}
	hdr := data[first:] // the ELF member is the first entry
	if !bytes.Equal(hdr[20:24], sz[:]) || !bytes.Equal(hdr[24:28], sz[:]) {
		t.Fatalf("central directory sizes %x %x, want %x", hdr[20:24], hdr[24:28], sz)
	}
	copy(hdr[20:24], big[:])
	copy(hdr[24:28], big[:])
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Audit(p)
	if err == nil || !strings.Contains(err.Error(), "member pkg/_ext.so: stored sizes "+strconv.Itoa(len(data)*4)) {
		t.Fatalf("Audit = %v, want an error about the member's sizes", err)
	}
}
