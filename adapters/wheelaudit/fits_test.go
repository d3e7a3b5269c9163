package wheelaudit

import (
	"reflect"
	"testing"
)

// auditFixtureWheel audits a wheel holding the named fixtures (arch/file)
// under pkg/ (or at the given member name when it has a "=").
func auditFixtureWheel(t *testing.T, wheel string, fixtures ...[2]string) *Report {
	t.Helper()
	ms := []member{pyFile("pkg/__init__.py")}
	for _, f := range fixtures {
		ms = append(ms, member{f[0], fixture(t, f[1])})
	}
	rep, err := Audit(makeWheel(t, wheel, ms...))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestFits(t *testing.T) {
	const (
		s390 = "pkg-1.0-cp311-cp311-linux_s390x.whl"
		x86  = "pkg-1.0-py3-none-linux_x86_64.whl"
	)
	oldS390 := [2]string{"pkg/_ext.so", "s390x/old.so"}
	newS390 := [2]string{"pkg/_ext.so", "s390x/new.so"}
	xmlS390 := [2]string{"pkg/_ext.so", "s390x/xml.so"}
	tests := []struct {
		name     string
		wheel    string
		fixtures [][2]string
		target   string
		ok       bool
		err      string
		retag    []string
		repair   []string
		fixable  bool // Verdict.Repairable
	}{
		{name: "pure fits any target", wheel: "pkg-1.0-py3-none-any.whl", target: "manylinux2014_s390x", ok: true},
		{name: "pure fits any", wheel: "pkg-1.0-py3-none-any.whl", target: "any", ok: true},
		{name: "x86_64 wheel for s390x", wheel: x86, fixtures: [][2]string{{"pkg/_ext.so", "x86_64/old.so"}},
			target: "manylinux2014_s390x", err: "machine x86-64, target s390x"},
		{name: "glibc too new for manylinux2014", wheel: s390, fixtures: [][2]string{newS390},
			target: "manylinux2014_s390x", err: "needs GLIBC_2.34, manylinux2014 allows 2.17"},
		{name: "glibc too new by PEP 600 name", wheel: s390, fixtures: [][2]string{newS390},
			target: "manylinux_2_28_s390x", err: "needs GLIBC_2.34, manylinux_2_28 allows 2.28"},
		{name: "glibc 2.34 fits 2_36, oldest satisfied tag", wheel: s390, fixtures: [][2]string{newS390},
			target: "manylinux_2_36_s390x", ok: true, retag: []string{"manylinux_2_34_s390x"}},
		{name: "old symbols retag to manylinux2014", wheel: s390, fixtures: [][2]string{oldS390},
			target: "manylinux2014_s390x", ok: true, retag: []string{"manylinux_2_17_s390x", "manylinux2014_s390x"}},
		{name: "target above the newest policy", wheel: s390, fixtures: [][2]string{newS390},
			target: "manylinux_2_39_s390x", ok: true, retag: []string{"manylinux_2_34_s390x"}},
		{name: "external library", wheel: s390, fixtures: [][2]string{xmlS390},
			target: "manylinux_2_36_s390x", err: "links libxml2.so.2, not allowed by manylinux_2_36", repair: []string{"libxml2.so.2"}, fixable: true},
		{name: "external library, legacy name", wheel: s390, fixtures: [][2]string{xmlS390},
			target: "manylinux2014_s390x", err: "links libxml2.so.2, not allowed by manylinux2014", repair: []string{"libxml2.so.2"}, fixable: true},
		{name: "bundled library", wheel: s390, fixtures: [][2]string{xmlS390, {"pkg.libs/libxml2.so.2", "s390x/libxml2.so.2"}},
			target: "manylinux_2_36_s390x", ok: true, retag: []string{"manylinux_2_17_s390x", "manylinux2014_s390x"}},
		{name: "glibc and library both reported", wheel: s390, fixtures: [][2]string{newS390, {"pkg/_xml.so", "s390x/xml.so"}},
			target: "manylinux2014_s390x", err: "needs GLIBC_2.34, manylinux2014 allows 2.17; links libxml2.so.2, not allowed by manylinux2014",
			repair: []string{"libxml2.so.2"}},
		{name: "C++ too new for manylinux2014", wheel: x86, fixtures: [][2]string{{"pkg/_ext.so", "x86_64/cxx.so"}},
			target: "manylinux2014_x86_64", err: "needs GLIBCXX_3.4.21, manylinux2014 allows 3.4.19; needs CXXABI_1.3.9, manylinux2014 allows 1.3.7"},
		{name: "C++ fits manylinux_2_28", wheel: x86, fixtures: [][2]string{{"pkg/_ext.so", "x86_64/cxx.so"}},
			target: "manylinux_2_28_x86_64", ok: true, retag: []string{"manylinux_2_24_x86_64"}},
		{name: "linux target checks the machine only", wheel: s390, fixtures: [][2]string{xmlS390},
			target: "linux_s390x", ok: true},
		{name: "linux target, wrong machine", wheel: s390, fixtures: [][2]string{oldS390},
			target: "linux_x86_64", err: "machine s390x, target x86-64"},
		{name: "manylinux wheel needs no retag", wheel: "pkg-1.0-cp311-cp311-manylinux_2_17_s390x.manylinux2014_s390x.whl",
			fixtures: [][2]string{oldS390}, target: "manylinux_2_36_s390x", ok: true},
		{name: "manylinux tag newer than target", wheel: "pkg-1.0-cp311-cp311-manylinux_2_28_s390x.whl",
			fixtures: [][2]string{oldS390}, target: "manylinux2014_s390x", err: "tagged manylinux_2_28_s390x, manylinux2014 allows 2.17"},
		{name: "tag for another machine", wheel: "pkg-1.0-cp311-cp311-linux_x86_64.whl", fixtures: [][2]string{oldS390},
			target: "manylinux2014_s390x", err: "tagged linux_x86_64, target s390x"},
		{name: "manylinux1 has no s390x policy", wheel: s390, fixtures: [][2]string{oldS390},
			target: "manylinux1_s390x", err: "no manylinux policy for s390x at glibc 2.5"},
		{name: "platform wheel for target any", wheel: s390, fixtures: [][2]string{oldS390},
			target: "any", err: "platform wheel linux_s390x, target any (pure wheels only)"},
		{name: "musllinux target unsupported", wheel: s390, fixtures: [][2]string{oldS390}, target: "musllinux_1_2_s390x",
			err: "target musllinux_1_2_s390x: not a supported platform tag (want manylinux_X_Y_<arch>, manylinux1/2010/2014_<arch>, linux_<arch> or any)"},
		{name: "any-tagged wheel with an ELF file of the target's machine", wheel: "pkg-1.0-py3-none-any.whl", fixtures: [][2]string{oldS390},
			target: "manylinux2014_s390x", ok: true},
		{name: "any-tagged wheel with an ELF file of another machine", wheel: "pkg-1.0-py3-none-any.whl", fixtures: [][2]string{oldS390},
			target: "manylinux2014_x86_64", err: "machine s390x, target x86-64"},
		{name: "machines mixed", wheel: s390, fixtures: [][2]string{oldS390, {"pkg/_x86.so", "x86_64/old.so"}},
			target: "manylinux2014_s390x", err: "ELF files for different machines: pkg/_ext.so is s390x, pkg/_x86.so is x86-64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := auditFixtureWheel(t, tt.wheel, tt.fixtures...)
			v := rep.Fits(tt.target)
			if v.OK != tt.ok || v.Error != tt.err {
				t.Fatalf("Fits(%s) = ok %v, error %q; want ok %v, error %q", tt.target, v.OK, v.Error, tt.ok, tt.err)
			}
			wantReason := ""
			if !tt.ok {
				wantReason = ReasonPlatformMismatch
			}
			if v.Reason != wantReason {
				t.Errorf("reason %q, want %q", v.Reason, wantReason)
			}
			if !reflect.DeepEqual(v.RetagTo, tt.retag) || !reflect.DeepEqual(v.NeedsRepair, tt.repair) || v.Repairable != tt.fixable {
				t.Errorf("retag %v repair %v repairable %v, want %v, %v and %v", v.RetagTo, v.NeedsRepair, v.Repairable, tt.retag, tt.repair, tt.fixable)
			}
			if tt.ok != (len(rep.Problems) == 0) {
				t.Errorf("problems %v with ok %v", rep.Problems, tt.ok)
			}
		})
	}
}
