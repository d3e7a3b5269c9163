package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/testkit/pyindextest"
)

// POST /plan resolves REQUIREMENTS_PATH against the index, writes plan.json,
// answers with the plan (dag key included) and posts it to the control-plane;
// the CLI prints the same plan as a table.
func TestPlanGeneration(t *testing.T) {
	idx, err := pyindextest.Start([]pyindextest.Dist{
		{Name: "app", Version: "1.0", Requires: []string{"lib>=2"}, Sdist: true},
		{Name: "lib", Version: "2.0", WheelTags: []string{"py3-none-any"}},
		{Name: "lib", Version: "2.5", WheelTags: []string{"py3-none-any"}},
		{Name: "cext", Version: "0.3", WheelTags: []string{"cp311-cp311-manylinux2014_x86_64"}, Sdist: true},
	}, pyindextest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)
	fake, srv := startFake(t, "")
	e := newEnv(t)
	req := filepath.Join(e.dir, "requirements.txt")
	if err := os.WriteFile(req, []byte("app==1.0\ncext  # builds from source on s390x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.vars["REQUIREMENTS_PATH"] = req
	e.vars["INDEX_URL"] = idx.URL()
	e.vars["WORKER_TOKEN"] = "plan-token"
	e.vars["CONTROL_PLANE_URL"] = srv.URL

	out, stderr, code := e.run(t, "", "plan")
	if code != 0 || !strings.Contains(out, "lib") || !strings.Contains(out, "cext") {
		t.Fatalf("plan command = %d\n%s\n%s", code, out, stderr)
	}

	p := e.serve(t)
	code, body := post(t, p.url("/plan"), "plan-token", "")
	if code != http.StatusOK {
		t.Fatalf("POST /plan = %d %v", code, body)
	}
	if _, ok := body["dag"]; !ok || body["run_id"] == "" {
		t.Errorf("plan answer lacks dag or run_id: %v", body)
	}
	actions := map[string]string{}
	versions := map[string]string{}
	for _, n := range body["plan"].([]any) {
		m := n.(map[string]any)
		actions[m["name"].(string)], versions[m["name"].(string)] = m["action"].(string), m["version"].(string)
	}
	if actions["lib"] != "reuse" || versions["lib"] != "2.5" || actions["cext"] != "build" || actions["app"] != "build" {
		t.Errorf("plan nodes: actions %v versions %v; want lib 2.5 reuse (py3-none-any), cext and app build", actions, versions)
	}
	code, got := get(t, p.url("/plan"))
	if code != http.StatusOK || got["run_id"] != body["run_id"] {
		t.Errorf("GET /plan after POST = %d run_id %v, want %v", code, got["run_id"], body["run_id"])
	}
	eventually(t, 20*time.Second, "the plan at the control-plane", func() bool {
		for _, pl := range fake.Plans() {
			if pl.RunID == body["run_id"] {
				return true
			}
		}
		return false
	})
	p.stop(t, syscall.SIGTERM)
}
