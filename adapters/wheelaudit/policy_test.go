package wheelaudit

import (
	"strings"
	"testing"
)

// TestPolicyData checks the embedded policy file: the levels the refinery
// targets exist with the glibc level in their name, every architecture has
// the three symbol families, and later levels never allow less.
func TestPolicyData(t *testing.T) {
	pol, err := loadPolicy()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pol.About, "auditwheel") || !strings.Contains(pol.About, "PEP 600") {
		t.Errorf("policy.json does not name its sources: %q", pol.About)
	}
	want := []string{"2.5", "2.12", "2.17", "2.24", "2.27", "2.28", "2.31", "2.34", "2.35", "2.36"}
	var got []string
	for _, l := range pol.Levels {
		got = append(got, l.Glibc)
		if l.Name != "manylinux_"+strings.ReplaceAll(l.Glibc, ".", "_") {
			t.Errorf("level %s has glibc %s", l.Name, l.Glibc)
		}
		for arch, max := range l.MaxVersions {
			for _, fam := range families[1:] {
				if parseVersion(max[fam]) == nil {
					t.Errorf("%s %s: %s max %q is not a version", l.Name, arch, fam, max[fam])
				}
			}
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("levels %v, want %v", got, want)
	}
	for _, arch := range []string{"x86_64", "i686", "aarch64", "ppc64le", "s390x", "armv7l"} {
		lv, ok := pol.levelFor("2.17", arch)
		if !ok || lv.Name != "manylinux_2_17" {
			t.Errorf("manylinux2014 does not cover %s", arch)
		}
		if len(pol.Loaders[arch]) == 0 {
			t.Errorf("no dynamic loader named for %s", arch)
		}
	}
	for i := 1; i < len(pol.Levels); i++ {
		prev, cur := pol.Levels[i-1], pol.Levels[i]
		for _, lib := range prev.Libraries {
			if !cur.allows(lib) {
				t.Errorf("%s allows %s, %s does not", prev.Name, lib, cur.Name)
			}
		}
		for arch, pm := range prev.MaxVersions {
			cm, ok := cur.MaxVersions[arch]
			if !ok {
				t.Errorf("%s covers %s, %s does not", prev.Name, arch, cur.Name)
				continue
			}
			for fam, v := range pm {
				if compareVersions(cm[fam], v) < 0 {
					t.Errorf("%s %s: %s %s below %s's %s", cur.Name, arch, fam, cm[fam], prev.Name, v)
				}
			}
		}
	}
	if lv, _ := pol.levelFor("2.36", "s390x"); lv.allows("libxml2.so.2") || !lv.allows("libc.so.6") {
		t.Error("manylinux_2_36 library list is wrong about libxml2.so.2 or libc.so.6")
	}
}

func TestVersions(t *testing.T) {
	tests := []struct {
		name, family, version string
		numeric               bool
	}{
		{"GLIBC_2.34", "GLIBC", "2.34", true},
		{"GLIBC_2.2.5", "GLIBC", "2.2.5", true},
		{"GLIBCXX_3.4.30", "GLIBCXX", "3.4.30", true},
		{"GLIBCXX_LDBL_3.4.21", "GLIBCXX", "3.4.21", true},
		{"CXXABI_TM_1", "CXXABI", "1", true},
		{"GCC_12.0.0", "GCC", "12.0.0", true},
		{"GLIBC_PRIVATE", "GLIBC", "PRIVATE", false},
		{"GLIBC_ABI_DT_RELR", "GLIBC", "ABI_DT_RELR", false},
		{"CXXABI_FLOAT128", "CXXABI", "FLOAT128", false},
	}
	for _, tt := range tests {
		fam, ver, num := splitVersion(tt.name)
		if fam != tt.family || ver != tt.version || num != tt.numeric {
			t.Errorf("splitVersion(%s) = %s %s %v, want %s %s %v", tt.name, fam, ver, num, tt.family, tt.version, tt.numeric)
		}
	}
	for _, c := range []struct {
		a, b string
		want int
	}{{"2.17", "2.5", 1}, {"2.2", "2.2.0", 0}, {"2.2.5", "2.3", -1}, {"3.4.9", "3.4.10", -1}, {"12.0.0", "7.0.0", 1}} {
		if got := compareVersions(c.a, c.b); got != c.want {
			t.Errorf("compareVersions(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
