package controlplane_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
)

// The /ready check uses the smoke route where it exists (a rejected token is
// not ready) and a cheap read elsewhere; an unreachable control-plane is
// reported as such (advisory), not as a rejected token.
func TestCheck(t *testing.T) {
	tests := []struct {
		name        string
		version     cpfake.Version
		token       string
		down        bool
		ok          bool
		unreachable bool
		smokes      int // smoke requests seen
	}{
		{"newer, right token: smoke-ok", cpfake.VersionNew, "tok", false, true, false, 1},
		{"newer, wrong token: not ready", cpfake.VersionNew, "bad", false, false, false, 1},
		{"older: no smoke route, settings read", cpfake.VersionOld, "bad", false, true, false, 1},
		{"unreachable: advisory", cpfake.VersionNew, "tok", true, false, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, c := newPair(t, cpfake.Options{Version: tc.version, Token: "tok"}, controlplane.Options{Token: tc.token, MaxAttempts: 1})
			if tc.down {
				fake.SetFailure(cpfake.FailReset)
			}
			err := c.Check(context.Background())
			if (err == nil) != tc.ok || controlplane.Unreachable(err) != tc.unreachable {
				t.Fatalf("check = %v (unreachable %v), want ok %v unreachable %v", err, controlplane.Unreachable(err), tc.ok, tc.unreachable)
			}
			if tc.token == "bad" && !tc.ok && !strings.Contains(err.Error(), "rejects the worker token") {
				t.Errorf("reason %q does not name the token", err)
			}
			if err != nil && strings.Contains(err.Error(), tc.token) && tc.token != "" {
				t.Errorf("the token leaks into %q", err)
			}
			if n := fake.CountRequests("POST", "/api/worker/smoke"); n != tc.smokes && !tc.down {
				t.Errorf("smoke requests %d, want %d", n, tc.smokes)
			}
			if _, err := c.Smoke(context.Background()); tc.version == cpfake.VersionOld && !errors.Is(err, controlplane.ErrNotSupported) {
				t.Errorf("smoke on the older version = %v, want ErrNotSupported", err)
			}
		})
	}
}
