package pep508

import (
	"errors"
	"testing"
)

func TestMarkerEvaluate(t *testing.T) {
	env := TargetEnv("3.11", "manylinux2014_s390x")
	tests := []struct {
		marker string
		env    Env
		want   bool
	}{
		{`python_version >= "3.8"`, env, true},
		{`python_version < "3.10"`, env, false},
		{`python_version > "3.9"`, env, true}, // version, not string, comparison
		{`python_version == "3.11.*"`, env, true},
		{`python_full_version >= "3.11.0"`, env, true},
		{`python_version ~= "3.8"`, env, true},
		{`sys_platform == "linux"`, env, true},
		{`sys_platform == "win32"`, env, false},
		{`platform_machine == "s390x"`, env, true},
		{`platform_machine != "x86_64"`, env, true},
		{`"linux" in sys_platform`, env, true},
		{`"arm" not in platform_machine`, env, true},
		{`os_name == "nt" or platform_system == "Linux"`, env, true},
		{`os_name == "posix" and (implementation_name == "pypy" or python_version < "3")`, env, false},
		{`platform_python_implementation == "CPython"`, env, true},
		{`extra == "socks"`, env, false},
		{`extra == "socks"`, env.WithExtra("socks"), true},
		{`extra == "Test_Extra"`, env.WithExtra("test-extra"), true},
		{`extra == "socks"`, Env{}, false},                // missing extra is ""
		{`python_implementation == "CPython"`, env, true}, // legacy spelling
		{`'b' > 'a'`, env, true},
		{`os_name == "posix" and os_name == "posix" or os_name == "x"`, env, true},
		{`os_name == "x" and os_name == "posix" or os_name == "posix"`, env, true},
	}
	for _, tt := range tests {
		m, err := ParseMarker(tt.marker)
		if err != nil {
			t.Errorf("ParseMarker(%q): %v", tt.marker, err)
			continue
		}
		got, err := m.Evaluate(tt.env)
		if err != nil {
			t.Errorf("Evaluate(%q): %v", tt.marker, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Evaluate(%q) = %v, want %v", tt.marker, got, tt.want)
		}
		again, err := ParseMarker(m.String())
		if err != nil || again.String() != m.String() {
			t.Errorf("round trip of %q: %v", m.String(), err)
		}
	}
}

func TestMarkerEvaluateErrors(t *testing.T) {
	m, err := ParseMarker(`os_name ~= "posix"`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Evaluate(Env{"os_name": "posix"}); !errors.Is(err, ErrUndefinedMarker) {
		t.Errorf("~= on strings: err = %v", err)
	}
	m, _ = ParseMarker(`os_name == "posix"`)
	if _, err := m.Evaluate(Env{}); !errors.Is(err, ErrUndefinedMarker) {
		t.Errorf("missing variable: err = %v", err)
	}
	var none *Marker
	if ok, err := none.Evaluate(nil); !ok || err != nil {
		t.Errorf("nil marker = %v, %v", ok, err)
	}
}

func TestTargetEnv(t *testing.T) {
	tests := []struct{ py, tag, machine, short, full string }{
		{"3.11", "manylinux2014_s390x", "s390x", "3.11", "3.11.0"},
		{"3.12.4", "manylinux_2_28_x86_64", "x86_64", "3.12", "3.12.4"},
		{"3.10", "musllinux_1_2_aarch64", "aarch64", "3.10", "3.10.0"},
		{"3.9", "linux_ppc64le", "ppc64le", "3.9", "3.9.0"},
		{"3.11", "manylinux1_i686", "i686", "3.11", "3.11.0"},
		{"3.11", "any", "", "3.11", "3.11.0"},
	}
	for _, tt := range tests {
		env := TargetEnv(tt.py, tt.tag)
		if env["platform_machine"] != tt.machine || env["python_version"] != tt.short ||
			env["python_full_version"] != tt.full || env["sys_platform"] != "linux" {
			t.Errorf("TargetEnv(%q, %q) = %v", tt.py, tt.tag, env)
		}
	}
}
