package podman

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scripts/setup-emulation.sh --check reads binfmt_misc the way the kernel
// lists it; BINFMT_DIR and QEMU_DIR point it at files written here.
func TestSetupEmulationCheckSaysWhatIsMissing(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("skipping: sh not found")
	}
	script, _ := filepath.Abs("../../scripts/setup-emulation.sh")
	other := "s390x"
	if hostMachine() == "s390x" {
		other = "aarch64"
	}
	const handler = "enabled\ninterpreter /usr/libexec/qemu-binfmt/x-binfmt-P\nflags: PF\noffset 0\n"
	for _, tc := range []struct {
		name     string
		arch     string
		files    map[string]string // in BINFMT_DIR; "qemu" means the handler of arch
		qemuBin  bool
		wantCode int
		want     string
	}{
		{"registered with F", other, map[string]string{"status": "enabled\n", "qemu": handler}, true, 0, "binaries run on this"},
		{"native", hostMachine(), nil, false, 0, "no emulation needed"},
		{"not mounted", other, nil, true, 1, "binfmt_misc is not mounted"},
		{"binfmt_misc disabled", other, map[string]string{"status": "disabled\n"}, true, 1, "binfmt_misc is disabled"},
		{"no qemu-user-static", other, map[string]string{"status": "enabled\n"}, false, 1, "qemu-user-static is not installed"},
		{"handler not registered", other, map[string]string{"status": "enabled\n"}, true, 1, "no binfmt_misc handler qemu-" + other + " is registered"},
		{"handler disabled", other, map[string]string{"status": "enabled\n", "qemu": strings.Replace(handler, "enabled", "disabled", 1)}, true, 1, "is disabled"},
		{"no F flag", other, map[string]string{"status": "enabled\n", "qemu": strings.Replace(handler, "flags: PF", "flags: P", 1)}, true, 1, "lacks the F (fix binary) flag (flags: P)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			binfmt, qemuDir := filepath.Join(dir, "binfmt"), filepath.Join(dir, "bin")
			for _, d := range []string{binfmt, qemuDir} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for name, text := range tc.files {
				if name == "qemu" {
					name = "qemu-" + tc.arch
				}
				if err := os.WriteFile(filepath.Join(binfmt, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.qemuBin {
				if err := os.WriteFile(filepath.Join(qemuDir, "qemu-"+tc.arch+"-static"), []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			c := exec.Command(sh, script, "--check", tc.arch)
			c.Env = append(os.Environ(), "BINFMT_DIR="+binfmt, "QEMU_DIR="+qemuDir)
			out, _ := c.CombinedOutput()
			if code := c.ProcessState.ExitCode(); code != tc.wantCode || !strings.Contains(string(out), tc.want) {
				t.Errorf("exit %d, output %q; want exit %d and %q", code, out, tc.wantCode, tc.want)
			}
		})
	}
}

// build-local-image.sh refuses an unknown architecture before touching podman.
func TestBuildLocalImageRefusesUnknownArch(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("skipping: sh not found")
	}
	script, _ := filepath.Abs("../../scripts/build-local-image.sh")
	c := exec.Command(sh, script, "sparc128")
	c.Env = append(os.Environ(), "PODMAN=/nonexistent/podman")
	out, _ := c.CombinedOutput()
	if code := c.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), `unknown architecture "sparc128"`) {
		t.Errorf("exit %d, output %q; want exit 2 naming the architecture", code, out)
	}
}
