#!/bin/sh
# setup-services.sh: install the binaries the real-component tests start
# themselves (redis-server; the tests run it on a free loopback port, so no
# service needs to be running). Idempotent.
set -eu
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
if command -v redis-server >/dev/null 2>&1; then
	echo "setup-services: redis-server present ($(redis-server --version | cut -d' ' -f3))"
else
	echo "setup-services: installing redis-server"
	$SUDO apt-get update
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends redis-server
fi
for bin in python3 gcc; do
	command -v "$bin" >/dev/null 2>&1 || { echo "setup-services: $bin missing" >&2; exit 1; }
done
