#!/bin/sh
# build-local-image.sh: build the local builder image without a registry,
# for any architecture Debian ships, on any host.
#
#   sh scripts/build-local-image.sh [ARCH]
#
# ARCH (argument or environment) is a machine name as in platform tags
# (x86_64, aarch64, s390x, ppc64le, i686) or "native". Default: the machine
# in PLATFORM_TAG (default manylinux2014_s390x, so s390x).
#
#   1. debootstrap a Debian bookworm minbase rootfs for ARCH with python3, pip,
#      venv, python3-dev and gcc from the Debian mirror configured for apt on
#      this machine (the only one reachable here) and `podman import --arch` it
#      as localhost/refinery-builder-debian-base:<base hash>. On a host of
#      another architecture the rootfs's programs run under qemu-user-static
#      through binfmt_misc (scripts/setup-emulation.sh checks and explains);
#   2. `podman build --arch` builder/Containerfile.debian on top of it (adds
#      refinery-build), tagged IMAGE and labelled refinery.inputs=<hash> and
#      refinery.arch=<ARCH>.
#
# Image names: localhost/refinery-builder-debian:latest-<ARCH> always names
# the image for ARCH (e.g. :latest-s390x); the image for the host's own
# architecture is also tagged localhost/refinery-builder-debian:latest.
#
# A no-op when IMAGE already carries the label for the current inputs: the
# hash covers this script, builder/refinery-build and builder/Containerfile.debian
# (the base image is keyed by SUITE, PACKAGES and BASE_REV only, so editing
# refinery-build or this script re-runs step 2 only, in seconds).
#
# Environment: ARCH, IMAGE (default: the names above),
# DEBIAN_MIRROR (default: read from /etc/apt/sources.list*), SUITE (bookworm),
# PODMAN (podman), FORCE=1 rebuilds regardless.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
builder=$repo/builder

REPO=localhost/refinery-builder-debian
SUITE=${SUITE:-bookworm}
PODMAN=${PODMAN:-podman}
PACKAGES=python3,python3-pip,python3-venv,python3-dev,python3-setuptools,python3-wheel,gcc,libc6-dev
BASE_REPO=localhost/refinery-builder-debian-base

# shellcheck source=scripts/arch.sh
. "$here/arch.sh"
ARCH=${1:-${ARCH:-}}
if [ -z "$ARCH" ]; then
	ARCH=$(arch_from_platform_tag "${PLATFORM_TAG:-manylinux2014_s390x}")
fi
host_arch=$(uname -m)
[ "$ARCH" = native ] && ARCH=$host_arch
deb_arch=$(debian_arch "$ARCH") || {
	echo "image:local: unknown architecture \"$ARCH\" (want x86_64, aarch64, s390x, ppc64le, i686 or native)" >&2
	exit 2
}
oci_arch=$(oci_arch "$ARCH")
tags="-t $REPO:latest-$ARCH"
if [ "$ARCH" = "$host_arch" ]; then
	IMAGE=${IMAGE:-$REPO:latest}
	tags="$tags -t $IMAGE"
else
	IMAGE=${IMAGE:-$REPO:latest-$ARCH}
	# Refuses with a message naming what is missing (no binfmt_misc, no
	# handler, no F flag) before a 4-minute debootstrap fails obscurely.
	sh "$here/setup-emulation.sh" --check "$ARCH"
	tags="$tags -t $IMAGE"
fi


# BASE_REV: bump when the rootfs steps below change in a way SUITE/PACKAGES do not show.
BASE_REV=1
base_hash=$(printf '%s\n%s\n%s\n%s\n' "$SUITE" "$PACKAGES" "$BASE_REV" "$deb_arch" | sha256sum | cut -c1-16)
inputs_hash=$(printf '%s\n' "$base_hash" | cat - "$0" "$builder/refinery-build" "$builder/Containerfile.debian" | sha256sum | cut -c1-16)
base_image=$BASE_REPO:$base_hash

current=$($PODMAN image inspect --format '{{index .Labels "refinery.inputs"}}' "$IMAGE" 2>/dev/null || true)
if [ "${FORCE:-0}" != 1 ] && [ "$current" = "$inputs_hash" ]; then
	echo "image:local: $IMAGE is current (inputs $inputs_hash, $ARCH)"
	# shellcheck disable=SC2086
	$PODMAN tag "$IMAGE" $(echo "$tags" | sed 's/-t //g')
	exit 0
fi

# mirror_from_apt prints the first Debian (non-security) mirror URI apt uses
# for $SUITE, reading both deb822 .sources files and one-line .list files.
mirror_from_apt() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v suite="$SUITE" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "") {
					split(uris, u, " "); print u[1]; found = 1; exit
				}
				types = ""; suites = ""; uris = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
			/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
			/^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
			END { if (!found) flush() }
		' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v suite="$SUITE" '
			$1 == "deb" {
				i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) == suite) { print $i; exit }
			}
		' "$f"
	done
}

if ! $PODMAN image exists "$base_image"; then
	mirror=${DEBIAN_MIRROR:-$(mirror_from_apt | head -n 1)}
	[ -n "$mirror" ] || {
		echo "image:local: no Debian mirror for $SUITE in /etc/apt/sources.list*; set DEBIAN_MIRROR" >&2
		exit 1
	}
	work=$(mktemp -d /var/tmp/refinery-rootfs.XXXXXX)
	trap 'rm -rf "$work"' EXIT INT TERM
	if [ "$ARCH" = "$host_arch" ]; then
		echo "image:local: debootstrap $SUITE/$deb_arch from $mirror (about 2 minutes)"
	else
		echo "image:local: debootstrap $SUITE/$deb_arch from $mirror under qemu-$ARCH emulation (about 4 minutes)"
	fi
	debootstrap --arch="$deb_arch" --variant=minbase --include="$PACKAGES" "$SUITE" "$work/root" "$mirror"
	chroot "$work/root" apt-get clean
	rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin "$work/root/var/log/"*
	echo "image:local: importing $base_image"
	tar --numeric-owner -C "$work/root" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . |
		$PODMAN import --arch "$oci_arch" --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
			--change "LABEL refinery.base=$base_hash" --change "LABEL refinery.arch=$ARCH" - "$base_image"
	rm -rf "$work"
	trap - EXIT INT TERM
fi

echo "image:local: building $IMAGE on $base_image"
# shellcheck disable=SC2086
$PODMAN build --pull=never --network=none --arch "$oci_arch" \
	--build-arg "BASE=$base_image" \
	--label "refinery.inputs=$inputs_hash" --label "refinery.arch=$ARCH" \
	$tags -t "$REPO:$inputs_hash" \
	-f "$builder/Containerfile.debian" "$builder"
echo "image:local: $IMAGE built for $ARCH (inputs $inputs_hash)"
