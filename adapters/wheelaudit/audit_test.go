package wheelaudit

import (
	"reflect"
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
