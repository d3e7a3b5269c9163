#!/bin/sh
# build-local-image.sh: build the local builder image without a registry.
#
#   1. debootstrap a Debian bookworm minbase rootfs with python3, pip, venv,
#      python3-dev and gcc from the Debian mirror configured for apt on this
#      machine (the only one reachable here) and `podman import` it as
#      localhost/refinery-builder-debian-base:<base hash>;
#   2. `podman build` builder/Containerfile.debian on top of it (adds
#      refinery-build), tagged IMAGE and labelled refinery.inputs=<hash>.
#
# A no-op when IMAGE already carries the label for the current inputs: the
# hash covers this script, builder/refinery-build and builder/Containerfile.debian
# (the base image is keyed by SUITE, PACKAGES and BASE_REV only, so editing
# refinery-build or this script re-runs step 2 only, in seconds).
#
# Environment: IMAGE (default localhost/refinery-builder-debian:latest),
# DEBIAN_MIRROR (default: read from /etc/apt/sources.list*), SUITE (bookworm),
# PODMAN (podman), FORCE=1 rebuilds regardless.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
builder=$repo/builder

IMAGE=${IMAGE:-localhost/refinery-builder-debian:latest}
SUITE=${SUITE:-bookworm}
PODMAN=${PODMAN:-podman}
PACKAGES=python3,python3-pip,python3-venv,python3-dev,python3-setuptools,python3-wheel,gcc,libc6-dev
BASE_REPO=localhost/refinery-builder-debian-base


# BASE_REV: bump when the rootfs steps below change in a way SUITE/PACKAGES do not show.
BASE_REV=1
base_hash=$(printf '%s\n%s\n%s\n' "$SUITE" "$PACKAGES" "$BASE_REV" | sha256sum | cut -c1-16)
inputs_hash=$(printf '%s\n' "$base_hash" | cat - "$0" "$builder/refinery-build" "$builder/Containerfile.debian" | sha256sum | cut -c1-16)
base_image=$BASE_REPO:$base_hash

current=$($PODMAN image inspect --format '{{index .Labels "refinery.inputs"}}' "$IMAGE" 2>/dev/null || true)
if [ "${FORCE:-0}" != 1 ] && [ "$current" = "$inputs_hash" ]; then
	echo "image:local: $IMAGE is current (inputs $inputs_hash)"
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
	echo "image:local: debootstrap $SUITE from $mirror (about 2 minutes)"
	debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$work/root" "$mirror"
	chroot "$work/root" apt-get clean
	rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin "$work/root/var/log/"*
	echo "image:local: importing $base_image"
	tar --numeric-owner -C "$work/root" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . |
		$PODMAN import --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
			--change "LABEL refinery.base=$base_hash" - "$base_image"
	rm -rf "$work"
	trap - EXIT INT TERM
fi

echo "image:local: building $IMAGE on $base_image"
$PODMAN build --pull=never --network=none \
	--build-arg "BASE=$base_image" \
	--label "refinery.inputs=$inputs_hash" \
	-t "$IMAGE" -t "localhost/refinery-builder-debian:$inputs_hash" \
	-f "$builder/Containerfile.debian" "$builder"
echo "image:local: $IMAGE built (inputs $inputs_hash)"
