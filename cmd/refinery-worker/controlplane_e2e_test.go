package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
)

func startFake(t *testing.T, token string, version ...cpfake.Version) (*cpfake.Server, *httptest.Server) {
	t.Helper()
	opts := cpfake.Options{Token: token}
	if len(version) > 0 {
		opts.Version = version[0]
	}
	fake := cpfake.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv
}

// A drain of the fixtures reports each outcome to the control-plane: one
// manifest entry (stored fields include the tags, as the reference's
// PascalCase binding sees them), one event, one full log; secrets never leave.
func TestDrainReportsToControlPlane(t *testing.T) {
	fake, srv := startFake(t, "cp-token-xyz")
	e := newEnv(t)
	e.copyTestdata(t, "retry_queue.json", e.queue)
	e.copyTestdata(t, "plan.json", filepath.Join(e.out, "plan.json"))
	e.vars["CONTROL_PLANE_URL"] = srv.URL
	e.vars["CONTROL_PLANE_TOKEN"] = "cp-token-xyz"
	e.vars["INDEX_URL"] = "https://user:idx-pass-123@index.invalid/simple"
	stdout, stderr, code := e.run(t, "", "drain")
	if code != 0 {
		t.Fatalf("drain exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Reports still in the outbox when drain exits go out at the next start.
	if len(fake.Manifest()) < 7 {
		p := e.serve(t)
		eventually(t, 30*time.Second, "every report delivered", func() bool { return len(fake.Manifest()) >= 7 })
		p.stop(t, syscall.SIGTERM)
	}
	man := fake.Manifest()
	if len(man) != 7 {
		t.Fatalf("fake stored %d manifest entries, want 7: %+v", len(man), man)
	}
	for _, m := range man {
		if m.Status == "unmatched" {
			continue
		}
		if m.PythonTag == "" || m.PlatformTag == "" {
			t.Errorf("%s: stored without tags (PascalCase keys missing): %+v", m.Name, m)
		}
	}
	if ev := fake.Events(); len(ev) != 7 {
		t.Errorf("%d events, want 7", len(ev))
	} else {
		for _, x := range ev {
			if x.Status == "" || x.Metadata["duration_ms"] == nil {
				t.Errorf("event without status or duration_ms: %+v", x)
			}
		}
	}
	if logs := fake.FullLogs(); len(logs) < 5 {
		t.Errorf("%d full logs, want one per job that ran (5)", len(logs))
	} else {
		for _, l := range logs {
			if strings.Contains(l.Content, "idx-pass-123") {
				t.Errorf("full log of %s contains the index password", l.Name)
			}
		}
	}
	if d := fake.Duplicates(); d != 0 {
		t.Errorf("%d duplicate deliveries", d)
	}
	for _, f := range []string{"logs"} {
		matches, _ := filepath.Glob(filepath.Join(e.out, f, "*"))
		for _, m := range matches {
			if strings.Contains(readFile(t, m), "idx-pass-123") {
				t.Errorf("local log %s contains the index password", m)
			}
		}
	}
}

// QUEUE_BACKEND=controlplane: 20 leased builds each end with a final status
// at the control-plane (none stays leased or building), matched against the
// plan their lease names; on both control-plane versions, the newer one also
// storing each failure's summary.
func TestControlPlaneBuildQueueIntake(t *testing.T) {
	for _, v := range []cpfake.Version{cpfake.VersionOld, cpfake.VersionNew} {
		t.Run(string(v), func(t *testing.T) { controlPlaneBuildQueueIntake(t, v) })
	}
}

func controlPlaneBuildQueueIntake(t *testing.T, version cpfake.Version) {
	fake, srv := startFake(t, "tok", version)
	names := pkgNames("leased", 20)
	var nodes []string
	for _, n := range names {
		nodes = append(nodes, fmt.Sprintf(`{"name":%q,"version":"1.0","python_tag":"cp311","platform_tag":"manylinux2014_s390x","action":"build"}`, n))
	}
	resp, err := http.Post(srv.URL+"/api/plan", "application/json",
		strings.NewReader(`{"run_id":"cp-run","plan":[`+strings.Join(nodes, ",")+`],"dag":null}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("seed plan: %v %v", err, resp)
	}
	resp.Body.Close()
	planID := fake.Plans()[0].ID
	for _, n := range names {
		fake.AddBuilds(cpfake.Build{Package: n, Version: "1.0", PythonTag: "cp311", PlatformTag: "manylinux2014_s390x",
			RunID: "cp-run", PlanID: planID})
	}
	e := newEnv(t)
	e.vars["QUEUE_BACKEND"] = "controlplane"
	e.vars["CONTROL_PLANE_URL"] = srv.URL
	e.vars["CONTROL_PLANE_TOKEN"] = "tok"
	e.vars["BATCH_SIZE"] = "100"
	e.vars["STUB_FAIL_RATIO"] = "0.5"
	stdout, stderr, code := e.run(t, "", "drain")
	if code != 0 {
		t.Fatalf("drain exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "total=20") {
		t.Errorf("drain did not take the 20 leased builds:\n%s", stdout)
	}
	eventually(t, 30*time.Second, "a final status for every leased build", func() bool {
		for _, b := range fake.Builds() {
			if !finalBuildStatus(b) {
				return false
			}
		}
		return true
	})
	if u := fake.UnknownBuildStatuses(); len(u) != 0 {
		t.Errorf("statuses for builds the control-plane never leased: %+v", u)
	}
	for _, en := range e.manifest(t) {
		if en.Status == "unmatched" {
			t.Errorf("%s unmatched: the lease's plan was not used", en.Name)
		}
	}
	for _, b := range fake.Builds() {
		if wantSummary := version == cpfake.VersionNew && b.Status == "failed"; (b.FailureSummary != "") != wantSummary {
			t.Errorf("%s ended %s with failure_summary %q; want one only for failures on the newer version", b.Package, b.Status, b.FailureSummary)
		}
	}
}
