package podman

import "testing"

func TestPackageManagerOf(t *testing.T) {
	for _, tc := range []struct{ osRelease, want string }{
		{"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n", "apt"},
		{"ID=ubuntu\nID_LIKE=debian\n", "apt"},
		{"ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n", "dnf"},
		{"ID=fedora\n", "dnf"},
		{"ID=alpine\n", ""},
	} {
		got, err := PackageManagerOf(tc.osRelease)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("%q: %q, %v; want %q", tc.osRelease, got, err, tc.want)
		}
	}
}
