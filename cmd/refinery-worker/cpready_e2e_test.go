package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
)

// /ready checks the control-plane: a token the newer version's smoke route
// rejects makes the worker not ready, with the reason; the older version has
// no smoke route and a plain read passes; an unreachable control-plane is
// reported (degraded) but the worker stays ready and drains its file queue.
func TestReadyChecksControlPlane(t *testing.T) {
	t.Parallel() // each case has its own dirs, ports and control-plane
	tests := []struct {
		name     string
		version  cpfake.Version // "" = no control-plane listening
		token    string
		code     int
		reason   string // substring of checks.control_plane
		degraded bool
	}{
		{"newer token rejected", cpfake.VersionNew, "wrong", http.StatusServiceUnavailable, "rejects the worker token", false},
		{"newer token accepted", cpfake.VersionNew, "tok", http.StatusOK, "ok", false},
		{"older without smoke route", cpfake.VersionOld, "wrong", http.StatusOK, "ok", false},
		{"unreachable", "", "tok", http.StatusOK, "POST /api/worker/smoke", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := "http://" + freeAddr(t) // nothing listens there
			if tc.version != "" {
				srv := httptest.NewServer(cpfake.New(cpfake.Options{Token: "tok", Version: tc.version}))
				t.Cleanup(srv.Close)
				url = srv.URL
			}
			e := newEnv(t)
			e.vars["CONTROL_PLANE_URL"] = url
			e.vars["CONTROL_PLANE_TOKEN"] = tc.token
			p := e.serve(t)
			code, body := get(t, p.url("/ready"))
			checks, _ := body["checks"].(map[string]any)
			reason := fmt.Sprint(checks["control_plane"])
			if code != tc.code || !strings.Contains(reason, tc.reason) || strings.Contains(reason, tc.token) {
				t.Errorf("/ready %d, control_plane %q; want %d with %q (and no token)", code, reason, tc.code, tc.reason)
			}
			if _, deg := body["degraded"]; deg != tc.degraded {
				t.Errorf("/ready degraded %v, want %v", body["degraded"], tc.degraded)
			}
			if code := p.stop(t, syscall.SIGTERM); code != 0 {
				t.Errorf("serve exit %d", code)
			}
			if tc.version != "" {
				return
			}
			// Unreachable: the file queue is still consumed, the reports wait.
			e.copyTestdata(t, "retry_queue.json", e.queue)
			e.copyTestdata(t, "plan.json", filepath.Join(e.out, "plan.json"))
			if stdout, stderr, code := e.run(t, "", "drain"); code != 0 || len(e.manifest(t)) == 0 {
				t.Fatalf("drain with the control-plane down: exit %d\n%s\n%s", code, stdout, stderr)
			}
		})
	}
}
