package podman

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMachineOf(t *testing.T) {
	for tag, want := range map[string]string{
		"manylinux2014_s390x":    "s390x",
		"manylinux_2_36_s390x":   "s390x",
		"manylinux_2_17_x86_64":  "x86_64",
		"linux_x86_64":           "x86_64",
		"musllinux_1_2_aarch64":  "aarch64",
		"manylinux2014_ppc64le":  "ppc64le",
		"manylinux2014_i686":     "i686",
		"any":                    "",
		"macosx_11_0_arm64":      "",
		"manylinux2014_riscv128": "",
	} {
		if got := MachineOf(tag); got != want {
			t.Errorf("MachineOf(%q) = %q, want %q", tag, got, want)
		}
	}
}

// checkBinfmt reads the kernel's handler files; these are written the way
// /proc/sys/fs/binfmt_misc shows them.
func TestCheckBinfmt(t *testing.T) {
	const good = "enabled\ninterpreter /usr/libexec/qemu-binfmt/s390x-binfmt-P\nflags: PF\noffset 0\n"
	for _, tc := range []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{"registered with F", map[string]string{"status": "enabled\n", "qemu-s390x": good}, ""},
		{"not mounted", map[string]string{}, "binfmt_misc is not mounted"},
		{"no handler", map[string]string{"status": "enabled\n"}, "no binfmt_misc handler qemu-s390x is registered"},
		{"disabled", map[string]string{"status": "enabled\n", "qemu-s390x": strings.Replace(good, "enabled", "disabled", 1)}, "is disabled"},
		{"no F flag", map[string]string{"status": "enabled\n", "qemu-s390x": strings.Replace(good, "flags: PF", "flags: P", 1)}, `lacks the F flag (flags "P")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := checkBinfmt(dir, "s390x", "x86_64")
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("err = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			case err != nil && !strings.Contains(err.Error(), "setup-emulation.sh s390x"):
				t.Errorf("err = %v does not say how to fix it", err)
			}
		})
	}
}

func TestSmokeTestOption(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string // nil: off
		wantErr string
	}{
		{"off", nil, ""},
		{"", []string{}, ""},
		{"import", []string{}, ""},
		{`python3 -c 'import cpkg; assert cpkg.answer() == 42'`, []string{"python3", "-c", "import cpkg; assert cpkg.answer() == 42"}, ""},
		{"pytest {wheel} | tee", nil, "smoke test command"},
		{"   ", nil, "is blank"},
	} {
		got, err := RunnerOptions{SmokeTest: tc.in}.smokeArgv()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || (got == nil) != (tc.want == nil) || strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
