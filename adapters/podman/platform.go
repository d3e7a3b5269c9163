package podman

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// DefaultBinfmtDir is where the kernel lists binfmt_misc handlers.
const DefaultBinfmtDir = "/proc/sys/fs/binfmt_misc"

// machines maps the machine names of platform tags to OCI (podman)
// architectures and to qemu-user's binfmt handler names.
var machines = map[string]struct{ oci, qemu string }{
	"x86_64":  {"amd64", "x86_64"},
	"aarch64": {"arm64", "aarch64"},
	"s390x":   {"s390x", "s390x"},
	"ppc64le": {"ppc64le", "ppc64le"},
	"i686":    {"386", "i386"},
	"armv7l":  {"arm", "arm"},
}

// MachineOf returns the machine of a platform tag (manylinux2014_s390x,
// manylinux_2_36_x86_64, linux_aarch64, musllinux_1_2_ppc64le): the known
// machine name it ends with, or "" (for "any" or an unknown machine).
func MachineOf(platformTag string) string {
	for m := range machines {
		if strings.HasSuffix(platformTag, "_"+m) {
			return m
		}
	}
	return ""
}

// OCIArch returns podman's architecture name for a machine ("" if unknown).
func OCIArch(machine string) string { return machines[machine].oci }

// hostMachine is the machine this worker runs on.
func hostMachine() string {
	for m, a := range machines {
		if a.oci == runtime.GOARCH {
			return m
		}
	}
	return runtime.GOARCH
}

// CheckPlatform checks that the runner's image is built for the machine of
// target (a platform tag) and that this host can run it: natively, or through
// a binfmt_misc handler for qemu-user registered with the F flag (the
// interpreter must be reachable from inside containers). The error says what
// does not fit and how to fix it. A target without a known machine (e.g.
// "any") is not checked.
func (r *Runner) CheckPlatform(ctx context.Context, target string) error {
	want := MachineOf(target)
	if want == "" {
		return nil
	}
	image := r.cmd.Image()
	b, err := r.podmanOutput(ctx, "image", "inspect", "--format", "{{.Architecture}}", image)
	if err != nil {
		return fmt.Errorf("inspect builder image %s: %w", image, err)
	}
	got := strings.TrimSpace(string(b))
	if got != OCIArch(want) {
		return fmt.Errorf("builder image %s is for %s but the target %s needs %s: build one with "+
			"`sh scripts/build-local-image.sh %s` and set CONTAINER_IMAGE=%s, or set PLATFORM_TAG to a %s tag",
			image, got, target, OCIArch(want), want, ArchImage(want), got)
	}
	host := hostMachine()
	if want == host {
		return nil
	}
	return checkBinfmt(r.binfmtDir, want, host)
}

// ArchImage is the name scripts/build-local-image.sh gives the local
// builder image for a machine: localhost/refinery-builder-debian:latest-<machine>.
func ArchImage(machine string) string {
	return strings.TrimSuffix(LocalImage, ":latest") + ":latest-" + machine
}

// checkBinfmt checks that dir holds an enabled qemu handler for machine
// with the F (fix binary) flag.
func checkBinfmt(dir, machine, host string) error {
	qemu := machines[machine].qemu
	fail := func(format string, args ...any) error {
		return fmt.Errorf("this %s host cannot run %s containers: %s (run `sh scripts/setup-emulation.sh %s`)",
			host, machine, fmt.Sprintf(format, args...), machine)
	}
	if _, err := os.Stat(filepath.Join(dir, "status")); err != nil {
		return fail("binfmt_misc is not mounted at %s", dir)
	}
	b, err := os.ReadFile(filepath.Join(dir, "qemu-"+qemu))
	if errors.Is(err, os.ErrNotExist) {
		return fail("no binfmt_misc handler qemu-%s is registered (install qemu-user-static)", qemu)
	}
	if err != nil {
		return fail("read the binfmt_misc handler: %v", err)
	}
	text := string(b)
	if !strings.HasPrefix(text, "enabled") {
		return fail("the binfmt_misc handler qemu-%s is disabled", qemu)
	}
	flags := ""
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags = strings.TrimSpace(v)
		}
	}
	if !strings.Contains(flags, "F") {
		return fail("the binfmt_misc handler qemu-%s lacks the F flag (flags %q), so containers cannot reach its interpreter", qemu, flags)
	}
	return nil
}

// archArgs is podman's --arch for the image's architecture (Options.Arch),
// or nothing.
func (c *Commander) archArgs() []string {
	if c.opts.Arch == "" {
		return nil
	}
	return []string{"--arch", c.opts.Arch}
}
