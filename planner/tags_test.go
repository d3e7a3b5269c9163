package planner

import (
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/pyindex"
)

func wheelTags(s string) pyindex.WheelTags {
	p := strings.Split(s, "-")
	return pyindex.WheelTags{Python: p[0], ABI: p[1], Platform: p[2]}
}

func TestBestTag(t *testing.T) {
	tests := []struct {
		target, platform string
		tags             string
		ok               bool
		python, plat     string
	}{
		{"3.11", "manylinux2014_s390x", "py3-none-any", true, "py3", "any"},
		{"3.11", "manylinux2014_s390x", "py2.py3-none-any", true, "py3", "any"},
		{"3.11", "manylinux2014_s390x", "py311-none-any", true, "py311", "any"},
		{"3.11", "manylinux2014_s390x", "py312-none-any", false, "", ""},
		{"3.11", "manylinux2014_s390x", "py2-none-any", false, "", ""},
		{"3.11", "manylinux2014_s390x", "cp311-cp311-manylinux2014_s390x", true, "cp311", "manylinux2014_s390x"},
		{"3.11", "manylinux2014_s390x", "cp311-cp311-manylinux_2_17_s390x.manylinux2014_s390x", true, "cp311", "manylinux2014_s390x"},
		{"3.11", "manylinux2014_s390x", "cp311-cp311-manylinux_2_5_s390x.manylinux1_s390x.manylinux_2_12_s390x", true, "cp311", "manylinux_2_12_s390x"},
		{"3.11", "manylinux2014_s390x", "cp311-cp311-manylinux_2_28_s390x", false, "", ""},
		{"3.11", "manylinux2014_s390x", "cp311-cp311-manylinux1_s390x", true, "cp311", "manylinux1_s390x"},
		{"3.11", "manylinux2014_s390x", "cp311-cp311-manylinux2010_s390x", true, "cp311", "manylinux2010_s390x"},
		{"3.11", "manylinux2014_s390x", "cp311-cp311-manylinux2014_x86_64", false, "", ""},
		{"3.11", "manylinux2014_s390x", "cp311-cp311-musllinux_1_1_s390x", false, "", ""},
		{"3.11", "manylinux2014_s390x", "cp311-cp311-linux_s390x", false, "", ""},
		{"3.11", "manylinux2014_s390x", "cp310-cp310-manylinux2014_s390x", false, "", ""},
		{"3.11", "manylinux2014_s390x", "cp38-abi3-manylinux2014_s390x", true, "cp38", "manylinux2014_s390x"},
		{"3.11", "manylinux2014_s390x", "cp312-abi3-manylinux2014_s390x", false, "", ""},
		{"3.11", "manylinux2014_s390x", "cp311-none-any", true, "cp311", "any"},
		{"3.11", "manylinux2014_s390x", "pp310-pypy310_pp73-manylinux2014_s390x", false, "", ""},
		{"3.12", "manylinux_2_28_x86_64", "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64", true, "cp312", "manylinux_2_17_x86_64"},
		{"3.12", "musllinux_1_2_aarch64", "cp312-cp312-musllinux_1_1_aarch64", true, "cp312", "musllinux_1_1_aarch64"},
		{"3.12", "musllinux_1_1_aarch64", "cp312-cp312-musllinux_1_2_aarch64", false, "", ""},
		{"3.12", "linux_x86_64", "cp312-cp312-linux_x86_64", true, "cp312", "linux_x86_64"},
		{"3.12", "linux_x86_64", "cp312-cp312-manylinux1_x86_64", false, "", ""},
	}
	for _, tt := range tests {
		target, err := NewTarget(tt.target, tt.platform)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := target.bestTag(wheelTags(tt.tags))
		if ok != tt.ok || m.python != tt.python || m.platform != tt.plat {
			t.Errorf("%s/%s: %s → %+v %v, want %s %s %v", tt.target, tt.platform, tt.tags, m, ok, tt.python, tt.plat, tt.ok)
		}
	}
}

func TestNewTargetRejects(t *testing.T) {
	for _, tt := range [][2]string{{"3", "any"}, {"three", "linux_x86_64"}, {"3.11", ""}, {"3.11", "a b"}, {"3.11", "x.y"}} {
		if _, err := NewTarget(tt[0], tt[1]); err == nil {
			t.Errorf("NewTarget(%q, %q) accepted", tt[0], tt[1])
		}
	}
}
