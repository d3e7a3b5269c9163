package main

import (
	"os"
	"testing"
)

// scaleEnv turns on the long scale and chaos end-to-end tests. A plain
// `go test ./...` skips them to stay within minutes on 2 cores; `task
// test:scale`, `task test:ci` and .ci/run set it, so CI runs them all.
const scaleEnv = "REFINERY_SCALE"

// requireScale skips t unless REFINERY_SCALE=1.
func requireScale(t *testing.T) {
	t.Helper()
	if os.Getenv(scaleEnv) != "1" {
		t.Skipf("long scale/chaos test: runs with %s=1 (task test:scale, CI)", scaleEnv)
	}
}
