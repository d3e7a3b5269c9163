#!/bin/sh
# setup-emulation.sh: make this host able to run binaries of another
# architecture (for builder images of that architecture) with qemu-user-static
# through binfmt_misc, or say exactly what is missing.
#
#   sh scripts/setup-emulation.sh [--check] [ARCH]
#
# ARCH defaults to the machine in PLATFORM_TAG (default manylinux2014_s390x).
# On a host of that architecture nothing is needed. Otherwise it installs
# qemu-user-static and binfmt-support (apt-get, unless --check), mounts
# binfmt_misc when it is not, enables the qemu-ARCH handler, and checks that
# the handler is registered with the F flag (the interpreter is opened when
# registered, so it works inside containers whose root has no qemu). Exits 1
# with the reason when any of that cannot be done.
#
# Environment: ARCH, PLATFORM_TAG; BINFMT_DIR (/proc/sys/fs/binfmt_misc) and
# QEMU_DIR (/usr/bin, where qemu-ARCH-static is) are for tests.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/arch.sh
. "$here/arch.sh"

check_only=0
if [ "${1:-}" = --check ]; then
	check_only=1
	shift
fi
ARCH=${1:-${ARCH:-}}
[ -n "$ARCH" ] || ARCH=$(arch_from_platform_tag "${PLATFORM_TAG:-manylinux2014_s390x}")
host_arch=$(uname -m)
if [ "$ARCH" = "$host_arch" ] || [ "$ARCH" = native ]; then
	echo "setup-emulation: $ARCH is this host's architecture; no emulation needed"
	exit 0
fi
qemu=$(qemu_name "$ARCH")
binfmt=${BINFMT_DIR:-/proc/sys/fs/binfmt_misc}
qemu_dir=${QEMU_DIR:-/usr/bin}
handler=$binfmt/qemu-$qemu

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi

fail() {
	echo "setup-emulation: cannot run $ARCH binaries on this $host_arch host: $*" >&2
	exit 1
}

if [ "$check_only" = 0 ]; then
	missing=
	for p in qemu-user-static binfmt-support; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing="$missing $p"
		fi
	done
	if [ -n "$missing" ]; then
		echo "setup-emulation: installing$missing"
		$SUDO apt-get update
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
	fi
fi

if [ ! -e "$binfmt/status" ]; then
	if [ "$check_only" = 1 ]; then
		fail "binfmt_misc is not mounted at $binfmt (run: sh scripts/setup-emulation.sh $ARCH)"
	fi
	$SUDO mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null ||
		fail "binfmt_misc is not mounted at $binfmt and mounting it failed (a container without CAP_SYS_ADMIN, or a kernel without CONFIG_BINFMT_MISC); mount it on the host: mount -t binfmt_misc binfmt_misc $binfmt"
fi
if [ "$(cat "$binfmt/status")" != enabled ]; then
	fail "binfmt_misc is disabled ($binfmt/status); enable it: echo 1 > $binfmt/status"
fi

if [ ! -e "$handler" ] && [ "$check_only" = 0 ]; then
	if command -v update-binfmts >/dev/null 2>&1 && [ -e "/usr/share/binfmts/qemu-$qemu" ]; then
		$SUDO update-binfmts --enable "qemu-$qemu" || true
	fi
	if [ ! -e "$handler" ] && [ -e "/usr/lib/binfmt.d/qemu-$qemu.conf" ]; then
		# systemd-binfmt's format is the register line itself.
		grep -v '^#' "/usr/lib/binfmt.d/qemu-$qemu.conf" | $SUDO tee "$binfmt/register" >/dev/null || true
	fi
fi
if [ ! -e "$handler" ]; then
	if [ ! -x "$qemu_dir/qemu-$qemu-static" ]; then
		fail "qemu-user-static is not installed (no $qemu_dir/qemu-$qemu-static; apt-get install qemu-user-static binfmt-support)"
	fi
	fail "no binfmt_misc handler qemu-$qemu is registered ($handler is absent; run: update-binfmts --enable qemu-$qemu)"
fi
if ! grep -q '^enabled' "$handler"; then
	fail "the binfmt_misc handler $handler is disabled (run: update-binfmts --enable qemu-$qemu)"
fi
flags=$(sed -n 's/^flags: *//p' "$handler")
case $flags in
*F*) ;;
*) fail "the binfmt_misc handler $handler lacks the F (fix binary) flag (flags: ${flags:-none}), so containers cannot find its interpreter; re-register it from qemu-user-static's /usr/lib/binfmt.d/qemu-$qemu.conf" ;;
esac
echo "setup-emulation: $ARCH binaries run on this $host_arch host through $handler (flags $flags)"
