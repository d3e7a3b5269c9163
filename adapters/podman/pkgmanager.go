package podman

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// PackageManager reads /etc/os-release of image (in a throwaway container
// without network) and names its package manager: apt for Debian and
// Ubuntu, dnf for Fedora, RHEL, Rocky and their kin.
func PackageManager(ctx context.Context, bin, image string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, "run", "--rm", "--pull=never", "--network", "none", "--entrypoint", "cat", image, "/etc/os-release")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("read /etc/os-release of %s: %w: %s", image, err, strings.TrimSpace(errb.String()))
	}
	return PackageManagerOf(out.String())
}

// PackageManagerOf names the package manager of an os-release text (its ID
// and ID_LIKE).
func PackageManagerOf(osRelease string) (string, error) {
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(osRelease))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && (k == "ID" || k == "ID_LIKE") {
			ids = append(ids, strings.Fields(strings.Trim(v, `"'`))...)
		}
	}
	for _, id := range ids {
		switch id {
		case "debian", "ubuntu":
			return "apt", nil
		case "fedora", "rhel", "rocky", "centos", "almalinux":
			return "dnf", nil
		}
	}
	return "", fmt.Errorf("os-release ID %q: no known package manager (apt for debian/ubuntu, dnf for fedora/rhel)", strings.Join(ids, " "))
}

// PackageManagers names the package manager of images run by Bin
// (handlers.PackageManagers).
type PackageManagers struct{ Bin string }

// PackageManager is PackageManager(ctx, Bin, image).
func (p PackageManagers) PackageManager(ctx context.Context, image string) (string, error) {
	return PackageManager(ctx, p.Bin, image)
}
