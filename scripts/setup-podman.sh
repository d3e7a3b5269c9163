#!/bin/sh
# setup-podman.sh: install rootful podman and the helpers refinery-worker needs
# on Debian 12, and write the containers.conf drop-in these machines require
# (runc: crun 1.8 refuses the hybrid cgroup layout; ulimits: podman's default
# nofile of 1048576 cannot be set without CAP_SYS_RESOURCE). Idempotent: it
# installs only missing packages and rewrites the drop-in only when it differs.
set -eu

PACKAGES="podman runc uidmap catatonit fuse-overlayfs slirp4netns debootstrap"
CONF_DIR=${CONF_DIR:-/etc/containers/containers.conf.d}
CONF_FILE=$CONF_DIR/refinery.conf

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi

missing=
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "setup-podman: installing$missing"
	$SUDO apt-get update
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
else
	echo "setup-podman: packages present ($PACKAGES)"
fi

want='# Written by refinery-worker scripts/setup-podman.sh.
[engine]
runtime = "runc"

[containers]
default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]'

if [ -f "$CONF_FILE" ] && [ "$(cat "$CONF_FILE")" = "$want" ]; then
	echo "setup-podman: $CONF_FILE is current"
else
	$SUDO mkdir -p "$CONF_DIR"
	tmp=$(mktemp)
	printf '%s\n' "$want" >"$tmp"
	$SUDO install -m 0644 "$tmp" "$CONF_FILE"
	rm -f "$tmp"
	echo "setup-podman: wrote $CONF_FILE"
fi

podman --version
podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupsVersion}}' 2>/dev/null || true
