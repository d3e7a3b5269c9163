#!/bin/sh
# fuzz-all.sh TIME: run every Fuzz* target of the module for TIME each
# (go test -fuzz runs one target at a time). Stops at the first failure.
set -eu
time=${1:-1m}
cd "$(dirname "$0")/.."
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "==> $pkg $target ($time)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$time" "$pkg"
	done
done
